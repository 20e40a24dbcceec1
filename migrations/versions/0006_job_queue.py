"""The job outbox (learning_jobs) and, on PostgreSQL, procrastinate's queue schema.

learning_jobs is written in the submission's transaction; on PostgreSQL the same
transaction defers a procrastinate job that points at it, so procrastinate's tables
must exist before the first upload. They are created here from the schema.sql that
ships with the installed procrastinate (3.x), so `ngi db upgrade` is the only setup
step. A later procrastinate upgrade that changes its schema gets its own revision
applying procrastinate's migration files.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import JSON, TS, created_at

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PROCRASTINATE_TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
                        "procrastinate_workers")
PROCRASTINATE_TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type", "procrastinate_job_status")


def upgrade() -> None:
    op.create_table(
        "learning_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task", sa.String(50), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("run_after", TS, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        created_at(),
        sa.Column("updated_at", TS, nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'parked')",
                           name=op.f("ck_learning_jobs_status")),
        sa.ForeignKeyConstraint(["submission_id"], ["learning_submissions.id"], ondelete="CASCADE",
                                name=op.f("fk_learning_jobs_submission_id_learning_submissions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_jobs")),
    )
    op.create_index("idx_learning_jobs_due", "learning_jobs", ["status", "run_after"])
    op.create_index("idx_learning_jobs_submission", "learning_jobs", ["submission_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.exec_driver_sql(
            "SELECT to_regclass('procrastinate_jobs')").scalar() is None:
        from procrastinate.schema import SchemaManager

        # Driver-level execution (no `:name` parsing); `%` doubled as procrastinate's own
        # apply_schema does, since psycopg still scans the text for placeholders.
        bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in PROCRASTINATE_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        op.execute("""
            DO $$
            DECLARE fn record;
            BEGIN
                FOR fn IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                          JOIN pg_namespace n ON n.oid = p.pronamespace
                          WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'
                LOOP
                    EXECUTE 'DROP FUNCTION IF EXISTS ' || fn.signature || ' CASCADE';
                END LOOP;
            END $$;
        """)
        for type_name in PROCRASTINATE_TYPES:
            op.execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
    op.drop_index("idx_learning_jobs_submission", table_name="learning_jobs")
    op.drop_index("idx_learning_jobs_due", table_name="learning_jobs")
    op.drop_table("learning_jobs")
