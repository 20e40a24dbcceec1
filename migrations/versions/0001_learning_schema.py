"""The learning schema: `students` (only when absent) and the eight learning_* tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import JSON, TS, created_at

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


OWN_STUDENT_COLUMNS = {"id", "email", "full_name", "cohort", "created_at"}


def _updated_at() -> sa.Column:
    return sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=True)


def upgrade() -> None:
    # The platform owns `students`; on its database the table already exists.
    if not sa.inspect(op.get_bind()).has_table("students"):
        op.create_table(
            "students",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("email", sa.String(255), nullable=False),
            sa.Column("full_name", sa.String(255), nullable=True),
            sa.Column("cohort", sa.String(50), nullable=True),
            created_at(),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_students")),
            sa.UniqueConstraint("email", name=op.f("uq_students_email")),
        )

    op.create_table(
        "learning_companies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticker", sa.String(10), nullable=False),
        sa.Column("company_name", sa.String(255), nullable=False),
        sa.Column("industry", sa.String(100)),
        sa.Column("sub_industry", sa.String(100)),
        sa.Column("description", sa.Text()),
        sa.Column("headquarters", sa.String(100)),
        sa.Column("fiscal_year_end", sa.String(50)),
        sa.Column("sec_cik", sa.String(20)),
        sa.Column("ir_website_url", sa.Text()),
        sa.Column("revenue_model_type", sa.String(50)),
        sa.Column("revenue_driver_notes", sa.Text()),
        sa.Column("data_quality_score", sa.Integer()),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true()),
        created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_companies")),
        sa.UniqueConstraint("ticker", name=op.f("uq_learning_companies_ticker")),
    )
    op.create_index("idx_learning_companies_ticker", "learning_companies", ["ticker"])
    op.create_index("idx_learning_companies_active", "learning_companies", ["is_active"])

    op.create_table(
        "learning_packages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("package_date", sa.Date(), nullable=False),
        sa.Column("file_path", sa.String(500), nullable=False),
        sa.Column("file_size_bytes", sa.BigInteger()),
        sa.Column("file_hash", sa.String(64)),
        sa.Column("data_sources", JSON),
        sa.Column("ingestion_method", sa.String(50)),
        sa.Column("validation_status", sa.String(20)),
        sa.Column("validation_errors", JSON),
        sa.Column("is_current", sa.Boolean(), server_default=sa.true()),
        created_at(),
        # The foreign key to staff_users arrives with that table (0002).
        sa.Column("created_by", sa.Integer()),
        sa.ForeignKeyConstraint(
            ["company_id"], ["learning_companies.id"], ondelete="CASCADE",
            name=op.f("fk_learning_packages_company_id_learning_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_packages")),
        sa.UniqueConstraint("company_id", "version", name="uq_learning_packages_company_id_version"),
    )
    op.create_index("idx_learning_packages_company", "learning_packages", ["company_id"])
    op.create_index("idx_learning_packages_current", "learning_packages", ["company_id", "is_current"])
    op.create_index("idx_learning_packages_date", "learning_packages", [sa.text("package_date DESC")])
    op.create_index(
        "uq_learning_packages_one_current", "learning_packages", ["company_id"], unique=True,
        sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current"),
    )

    op.create_table(
        "learning_progress",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("selected_company_id", sa.Integer()),
        sa.Column("current_module", sa.String(50)),
        sa.Column("current_unit", sa.String(100)),
        sa.Column("current_activity", sa.String(100)),
        sa.Column("modules_completed", sa.Integer(), server_default=sa.text("0")),
        sa.Column("units_completed", sa.Integer(), server_default=sa.text("0")),
        sa.Column("activities_completed", sa.Integer(), server_default=sa.text("0")),
        sa.Column("completion_percentage", sa.Numeric(5, 2), server_default=sa.text("0.0")),
        sa.Column("current_streak_days", sa.Integer(), server_default=sa.text("0")),
        sa.Column("longest_streak_days", sa.Integer(), server_default=sa.text("0")),
        sa.Column("last_activity_date", sa.Date()),
        sa.Column("streak_milestones", JSON),
        sa.Column("total_minutes_invested", sa.Integer(), server_default=sa.text("0")),
        sa.Column("last_session_start", TS),
        sa.Column("capstone_submitted", sa.Boolean(), server_default=sa.false()),
        sa.Column("capstone_submitted_at", TS),
        created_at(),
        _updated_at(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["students.id"], ondelete="CASCADE", name=op.f("fk_learning_progress_user_id_students")
        ),
        sa.ForeignKeyConstraint(
            ["selected_company_id"], ["learning_companies.id"], ondelete="SET NULL",
            name=op.f("fk_learning_progress_selected_company_id_learning_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_progress")),
        sa.UniqueConstraint("user_id", name=op.f("uq_learning_progress_user_id")),
    )
    op.create_index("idx_learning_progress_user", "learning_progress", ["user_id"])
    op.create_index("idx_learning_progress_company", "learning_progress", ["selected_company_id"])
    op.create_index("idx_learning_progress_module", "learning_progress", ["current_module"])

    op.create_table(
        "learning_submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(100), nullable=False),
        sa.Column("module", sa.String(50), nullable=False),
        sa.Column("submission_type", sa.String(50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("file_path", sa.String(500), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("file_size_bytes", sa.BigInteger()),
        sa.Column("file_hash", sa.String(64)),
        sa.Column("validator_status", sa.String(20)),
        sa.Column("validator_errors", JSON),
        sa.Column("validator_run_at", TS),
        sa.Column("ai_detection_score", sa.Numeric(5, 2)),
        sa.Column("ai_detection_status", sa.String(20)),
        sa.Column("ai_detection_run_at", TS),
        sa.Column("submission_notes", sa.Text()),
        sa.Column("is_latest", sa.Boolean(), server_default=sa.true()),
        created_at(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["students.id"], ondelete="CASCADE", name=op.f("fk_learning_submissions_user_id_students")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["learning_companies.id"], ondelete="CASCADE",
            name=op.f("fk_learning_submissions_company_id_learning_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_submissions")),
        sa.UniqueConstraint(
            "user_id", "activity_id", "version", name="uq_learning_submissions_user_id_activity_id_version"
        ),
    )
    op.create_index("idx_learning_submissions_user", "learning_submissions", ["user_id"])
    op.create_index("idx_learning_submissions_activity", "learning_submissions", ["activity_id"])
    op.create_index(
        "idx_learning_submissions_latest", "learning_submissions", ["user_id", "activity_id", "is_latest"]
    )
    op.create_index("idx_learning_submissions_validator", "learning_submissions", ["validator_status"])
    op.create_index("idx_learning_submissions_ai", "learning_submissions", ["ai_detection_status"])
    op.create_index("idx_learning_submissions_company", "learning_submissions", ["company_id"])
    op.create_index(
        "uq_learning_submissions_one_latest", "learning_submissions", ["user_id", "activity_id"], unique=True,
        sqlite_where=sa.text("is_latest"), postgresql_where=sa.text("is_latest"),
    )

    op.create_table(
        "learning_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("feedback_type", sa.String(50), nullable=False),
        sa.Column("persona", sa.String(50), server_default=sa.text("'project_lead'")),
        sa.Column("feedback_text", sa.Text(), nullable=False),
        sa.Column("strengths", JSON),
        sa.Column("areas_for_improvement", JSON),
        sa.Column("specific_suggestions", JSON),
        sa.Column("rubric_accuracy", sa.Numeric(5, 2)),
        sa.Column("rubric_documentation", sa.Numeric(5, 2)),
        sa.Column("rubric_presentation", sa.Numeric(5, 2)),
        sa.Column("rubric_reasoning", sa.Numeric(5, 2)),
        sa.Column("rubric_composite", sa.Numeric(5, 2)),
        sa.Column("openai_model", sa.String(50)),
        sa.Column("openai_tokens_input", sa.Integer()),
        sa.Column("openai_tokens_output", sa.Integer()),
        sa.Column("openai_cost_usd", sa.Numeric(10, 6)),
        sa.Column("is_flagged", sa.Boolean(), server_default=sa.false()),
        sa.Column("flag_reason", sa.String(255)),
        sa.Column("flagged_by", sa.Integer()),
        sa.Column("flagged_at", TS),
        created_at(),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["learning_submissions.id"], ondelete="CASCADE",
            name=op.f("fk_learning_feedback_submission_id_learning_submissions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["students.id"], ondelete="CASCADE", name=op.f("fk_learning_feedback_user_id_students")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_feedback")),
    )
    op.create_index("idx_learning_feedback_submission", "learning_feedback", ["submission_id"])
    op.create_index("idx_learning_feedback_user", "learning_feedback", ["user_id"])
    op.create_index("idx_learning_feedback_flagged", "learning_feedback", ["is_flagged"])
    op.create_index("idx_learning_feedback_created", "learning_feedback", ["created_at"])

    op.create_table(
        "learning_leaderboard",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("dcf_price_target", sa.Numeric(10, 2)),
        sa.Column("comps_price_target", sa.Numeric(10, 2)),
        sa.Column("final_price_target", sa.Numeric(10, 2)),
        sa.Column("valuation_date", sa.Date(), nullable=False),
        sa.Column("anonymous_id", sa.String(50), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        created_at(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["students.id"], ondelete="CASCADE", name=op.f("fk_learning_leaderboard_user_id_students")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["learning_companies.id"], ondelete="CASCADE",
            name=op.f("fk_learning_leaderboard_company_id_learning_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["learning_submissions.id"], ondelete="CASCADE",
            name=op.f("fk_learning_leaderboard_submission_id_learning_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_leaderboard")),
        sa.UniqueConstraint("user_id", "company_id", name="uq_learning_leaderboard_user_id_company_id"),
        sa.UniqueConstraint("company_id", "anonymous_id", name="uq_learning_leaderboard_company_id_anonymous_id"),
    )
    op.create_index("idx_learning_leaderboard_company", "learning_leaderboard", ["company_id"])
    op.create_index("idx_learning_leaderboard_date", "learning_leaderboard", [sa.text("valuation_date DESC")])

    op.create_table(
        "learning_content",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.Column("parent_id", sa.Integer()),
        sa.Column("content_key", sa.String(100), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("subtitle", sa.String(255)),
        sa.Column("description", sa.Text()),
        sa.Column("learning_objectives", JSON),
        sa.Column("content_body", sa.Text()),
        sa.Column("estimated_duration_minutes", sa.Integer()),
        sa.Column("animation_scene_class", sa.String(100)),
        sa.Column("animation_video_url", sa.Text()),
        sa.Column("animation_duration_seconds", sa.Integer()),
        sa.Column("interactive_component_id", sa.String(100)),
        sa.Column("sequence_order", sa.Integer(), nullable=False),
        sa.Column("prerequisites", JSON),
        sa.Column("activity_type", sa.String(50)),
        sa.Column("deliverable_template_url", sa.Text()),
        sa.Column("rubric_criteria", JSON),
        sa.Column("is_published", sa.Boolean(), server_default=sa.false()),
        sa.Column("version", sa.String(20), server_default=sa.text("'1.0'")),
        created_at(),
        _updated_at(),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["learning_content.id"], ondelete="CASCADE",
            name=op.f("fk_learning_content_parent_id_learning_content"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_content")),
        sa.UniqueConstraint("content_key", name=op.f("uq_learning_content_content_key")),
    )
    op.create_index("idx_learning_content_type", "learning_content", ["content_type"])
    op.create_index("idx_learning_content_parent", "learning_content", ["parent_id"])
    op.create_index("idx_learning_content_key", "learning_content", ["content_key"])
    op.create_index("idx_learning_content_published", "learning_content", ["is_published"])
    op.create_index("idx_learning_content_sequence", "learning_content", ["parent_id", "sequence_order"])

    op.create_table(
        "learning_telemetry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("event_category", sa.String(50)),
        sa.Column("module", sa.String(50)),
        sa.Column("unit", sa.String(100)),
        sa.Column("lesson", sa.String(100)),
        sa.Column("activity", sa.String(100)),
        sa.Column("company_id", sa.Integer()),
        sa.Column("submission_id", sa.Integer()),
        sa.Column("event_data", JSON),
        sa.Column("session_id", sa.String(100)),
        sa.Column("time_spent_seconds", sa.Integer()),
        sa.Column("user_agent", sa.Text()),
        sa.Column("ip_address", sa.String(45)),
        sa.Column("event_timestamp", TS, server_default=sa.func.now()),
        sa.ForeignKeyConstraint(
            ["user_id"], ["students.id"], ondelete="CASCADE", name=op.f("fk_learning_telemetry_user_id_students")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["learning_companies.id"], ondelete="SET NULL",
            name=op.f("fk_learning_telemetry_company_id_learning_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["learning_submissions.id"], ondelete="SET NULL",
            name=op.f("fk_learning_telemetry_submission_id_learning_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_telemetry")),
    )
    op.create_index("idx_learning_telemetry_user", "learning_telemetry", ["user_id"])
    op.create_index("idx_learning_telemetry_type", "learning_telemetry", ["event_type"])
    op.create_index("idx_learning_telemetry_timestamp", "learning_telemetry", [sa.text("event_timestamp DESC")])
    op.create_index("idx_learning_telemetry_session", "learning_telemetry", ["session_id"])
    op.create_index("idx_learning_telemetry_company", "learning_telemetry", ["company_id"])
    op.create_index("idx_learning_telemetry_submission", "learning_telemetry", ["submission_id"])


def downgrade() -> None:
    for table in (
        "learning_telemetry",
        "learning_content",
        "learning_leaderboard",
        "learning_feedback",
        "learning_submissions",
        "learning_progress",
        "learning_packages",
        "learning_companies",
    ):
        op.drop_table(table)
    # `students` belongs to the platform. Drop it only when it is the bare, empty table
    # this migration would have created; a platform's own table has more columns or rows.
    bind = op.get_bind()
    columns = {c["name"] for c in sa.inspect(bind).get_columns("students")}
    empty = bind.execute(sa.text("SELECT COUNT(*) FROM students")).scalar_one() == 0
    if columns == OWN_STUDENT_COLUMNS and empty:
        op.drop_table("students")
