"""Columns and tables the appendix lacks, for review and feedback moderation.

- learning_submissions: ai_detection_details (the detector's model version and
  per-run details), feedback_status (generated / retry / skipped ...), and the
  instructor's review (reviewed_by, reviewed_at, review_notes).
- learning_feedback: provider, cached input tokens, the stored prompt, release state
  (held | released) with reasons and who released it, the original text of an edit
  and who edited it, auto_flags, and the row a regeneration came from.
- learning_validator_runs: every validator run, the submission mirrors the latest.
- learning_feedback_failures: generations that failed, with the raw reply.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import JSON, TS, created_at

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learning_submissions") as batch:
        batch.add_column(sa.Column("ai_detection_details", JSON))
        batch.add_column(sa.Column("feedback_status", sa.String(20)))
        batch.add_column(sa.Column("reviewed_by", sa.Integer()))
        batch.add_column(sa.Column("reviewed_at", TS))
        batch.add_column(sa.Column("review_notes", sa.Text()))
        batch.create_foreign_key(
            op.f("fk_learning_submissions_reviewed_by_staff_users"), "staff_users", ["reviewed_by"], ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("learning_feedback") as batch:
        batch.add_column(sa.Column("provider", sa.String(20)))
        batch.add_column(sa.Column("openai_tokens_cached", sa.Integer()))
        batch.add_column(sa.Column("prompt", JSON))
        batch.add_column(sa.Column("release_state", sa.String(10), server_default=sa.text("'held'"), nullable=False))
        batch.add_column(sa.Column("hold_reasons", JSON))
        batch.add_column(sa.Column("auto_flags", JSON))
        batch.add_column(sa.Column("released_at", TS))
        batch.add_column(sa.Column("released_by", sa.Integer()))
        batch.add_column(sa.Column("original_text", sa.Text()))
        batch.add_column(sa.Column("edited_by", sa.Integer()))
        batch.add_column(sa.Column("edited_at", TS))
        batch.add_column(sa.Column("regenerated_from_id", sa.Integer()))
        batch.create_check_constraint("release_state", "release_state IN ('held', 'released')")
        batch.create_foreign_key(
            op.f("fk_learning_feedback_released_by_staff_users"), "staff_users", ["released_by"], ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_learning_feedback_edited_by_staff_users"), "staff_users", ["edited_by"], ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_learning_feedback_regenerated_from_id_learning_feedback"), "learning_feedback",
            ["regenerated_from_id"], ["id"], ondelete="SET NULL",
        )

    op.create_table(
        "learning_validator_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("report", JSON),
        sa.Column("run_by", sa.Integer()),
        created_at("run_at"),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["learning_submissions.id"], ondelete="CASCADE",
            name=op.f("fk_learning_validator_runs_submission_id_learning_submissions"),
        ),
        sa.ForeignKeyConstraint(
            ["run_by"], ["staff_users.id"], ondelete="SET NULL",
            name=op.f("fk_learning_validator_runs_run_by_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_validator_runs")),
    )
    op.create_index("idx_learning_validator_runs_submission", "learning_validator_runs", ["submission_id"])

    op.create_table(
        "learning_feedback_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("model", sa.String(50)),
        sa.Column("persona", sa.String(50)),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("raw_reply", sa.Text()),
        sa.Column("openai_tokens_input", sa.Integer()),
        sa.Column("openai_tokens_output", sa.Integer()),
        sa.Column("openai_cost_usd", sa.Numeric(10, 6)),
        created_at(),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["learning_submissions.id"], ondelete="CASCADE",
            name=op.f("fk_learning_feedback_failures_submission_id_learning_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_feedback_failures")),
    )
    op.create_index(
        "idx_learning_feedback_failures_submission", "learning_feedback_failures", ["submission_id"]
    )


def downgrade() -> None:
    op.drop_table("learning_feedback_failures")
    op.drop_table("learning_validator_runs")
    with op.batch_alter_table("learning_feedback") as batch:
        batch.drop_constraint(
            op.f("fk_learning_feedback_regenerated_from_id_learning_feedback"), type_="foreignkey"
        )
        batch.drop_constraint(op.f("fk_learning_feedback_edited_by_staff_users"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_learning_feedback_released_by_staff_users"), type_="foreignkey")
        batch.drop_constraint(op.f("ck_learning_feedback_release_state"), type_="check")
        for column in (
            "regenerated_from_id", "edited_at", "edited_by", "original_text", "released_by", "released_at",
            "auto_flags", "hold_reasons", "release_state", "prompt", "openai_tokens_cached", "provider",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("learning_submissions") as batch:
        batch.drop_constraint(op.f("fk_learning_submissions_reviewed_by_staff_users"), type_="foreignkey")
        for column in ("review_notes", "reviewed_at", "reviewed_by"):
            batch.drop_column(column)
        batch.drop_column("feedback_status")
        batch.drop_column("ai_detection_details")
