"""Telemetry rollups: the daily per-student table the analytics page reads, the
per-(student, activity) funnel, per-student ingest state, import idempotency keys, and
failed validator checks and slim outcomes of the submissions.

All of them are derived (from learning_telemetry and learning_submissions) and rebuilt by
`ngi telemetry rollup --rebuild`; dropping them loses nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import TS

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def _student_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["students.id"], ondelete="CASCADE", name=op.f(f"fk_{table}_user_id_students")
    )


def upgrade() -> None:
    op.create_table(
        "learning_telemetry_daily",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        *(_count(name) for name in (
            "events", "lesson_views", "activity_starts", "submissions", "validator_passes",
            "validator_fails", "feedback_issued", "other_events", "active_seconds",
        )),
        _student_fk("learning_telemetry_daily"),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_learning_telemetry_daily")),
    )
    op.create_index("idx_learning_telemetry_daily_day", "learning_telemetry_daily", ["day", "user_id"])
    op.create_index("idx_learning_telemetry_daily_week", "learning_telemetry_daily", ["week_start", "user_id"])
    op.create_index(
        "idx_learning_telemetry_daily_month", "learning_telemetry_daily", ["month_start", "user_id", "day"]
    )

    op.create_table(
        "learning_activity_funnel",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(100), nullable=False),
        sa.Column("first_at", TS, nullable=False),
        sa.Column("lesson_view_at", TS),
        sa.Column("activity_start_at", TS),
        sa.Column("submission_at", TS),
        sa.Column("validator_pass_at", TS),
        sa.Column("feedback_issued_at", TS),
        _count("ordered_steps"),
        sa.Column("completed_at", TS),
        _student_fk("learning_activity_funnel"),
        sa.PrimaryKeyConstraint("user_id", "activity", name=op.f("pk_learning_activity_funnel")),
    )
    op.create_index(
        "idx_learning_activity_funnel_activity", "learning_activity_funnel", ["activity", "ordered_steps"]
    )

    op.create_table(
        "learning_telemetry_state",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("first_event_at", TS, nullable=False),
        sa.Column("first_active_week", sa.Date(), nullable=False),
        sa.Column("last_event_at", TS, nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        _count("last_tail_seconds"),
        sa.Column("session_start_at", TS, nullable=False),
        sa.Column("context_module", sa.String(50)),
        sa.Column("context_unit", sa.String(100)),
        sa.Column("context_lesson", sa.String(100)),
        sa.Column("context_activity", sa.String(100)),
        sa.Column("company_id", sa.Integer()),
        _student_fk("learning_telemetry_state"),
        sa.ForeignKeyConstraint(
            ["company_id"], ["learning_companies.id"], ondelete="SET NULL",
            name=op.f("fk_learning_telemetry_state_company_id_learning_companies"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_learning_telemetry_state")),
    )

    op.create_table(
        "learning_telemetry_keys",
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _student_fk("learning_telemetry_keys"),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_learning_telemetry_keys")),
    )
    op.create_index("idx_learning_telemetry_keys_user", "learning_telemetry_keys", ["user_id"])

    op.create_table(
        "learning_check_failures",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(100), nullable=False),
        sa.Column("module", sa.String(50), nullable=False),
        sa.Column("created_at", TS),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["learning_submissions.id"], ondelete="CASCADE",
            name=op.f("fk_learning_check_failures_submission_id_learning_submissions"),
        ),
        _student_fk("learning_check_failures"),
        sa.ForeignKeyConstraint(
            ["company_id"], ["learning_companies.id"], ondelete="CASCADE",
            name=op.f("fk_learning_check_failures_company_id_learning_companies"),
        ),
        sa.PrimaryKeyConstraint("submission_id", "check_id", name=op.f("pk_learning_check_failures")),
    )
    op.create_index(
        "idx_learning_check_failures_check", "learning_check_failures",
        ["check_id", "activity_id", "company_id", "user_id"],
    )

    op.create_table(
        "learning_submission_outcomes",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(100), nullable=False),
        sa.Column("module", sa.String(50), nullable=False),
        sa.Column("created_at", TS),
        sa.Column("validator_status", sa.String(20), nullable=False),
        sa.Column("rubric_composite", sa.Numeric(5, 2)),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["learning_submissions.id"], ondelete="CASCADE",
            name=op.f("fk_learning_submission_outcomes_submission_id_learning_submissions"),
        ),
        _student_fk("learning_submission_outcomes"),
        sa.ForeignKeyConstraint(
            ["company_id"], ["learning_companies.id"], ondelete="CASCADE",
            name=op.f("fk_learning_submission_outcomes_company_id_learning_companies"),
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_learning_submission_outcomes")),
    )
    op.create_index(
        "idx_learning_submission_outcomes_user", "learning_submission_outcomes", ["user_id", "validator_status"]
    )


def downgrade() -> None:
    op.drop_table("learning_submission_outcomes")
    op.drop_table("learning_check_failures")
    op.drop_table("learning_telemetry_keys")
    op.drop_table("learning_telemetry_state")
    op.drop_table("learning_activity_funnel")
    op.drop_table("learning_telemetry_daily")
