"""Every foreign key gets an index, and the packages date index is DESC again on SQLite.

The schema appendix asks for all foreign keys to be indexed. Without one, each cascade
or SET NULL from the parent (erasing a student, deleting a staff account) scans the
child table. 0002's batch rebuild of learning_packages recreated
idx_learning_packages_date on SQLite without its DESC; it is rebuilt here as 0001 made it.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# index name -> (table, column)
FOREIGN_KEY_INDEXES = {
    "idx_learning_packages_created_by": ("learning_packages", "created_by"),
    "idx_learning_submissions_reviewed_by": ("learning_submissions", "reviewed_by"),
    "idx_learning_feedback_flagged_by": ("learning_feedback", "flagged_by"),
    "idx_learning_feedback_released_by": ("learning_feedback", "released_by"),
    "idx_learning_feedback_edited_by": ("learning_feedback", "edited_by"),
    "idx_learning_feedback_regenerated_from": ("learning_feedback", "regenerated_from_id"),
    "idx_learning_leaderboard_submission": ("learning_leaderboard", "submission_id"),
    "idx_learning_validator_runs_run_by": ("learning_validator_runs", "run_by"),
    "idx_learning_telemetry_state_company": ("learning_telemetry_state", "company_id"),
    "idx_learning_check_failures_user": ("learning_check_failures", "user_id"),
    "idx_learning_check_failures_company": ("learning_check_failures", "company_id"),
    "idx_learning_submission_outcomes_company": ("learning_submission_outcomes", "company_id"),
}


def upgrade() -> None:
    for name, (table, column) in FOREIGN_KEY_INDEXES.items():
        op.create_index(name, table, [column])
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("idx_learning_packages_date", table_name="learning_packages")
        op.create_index("idx_learning_packages_date", "learning_packages", [sa.text("package_date DESC")])


def downgrade() -> None:
    # The DESC date index is what 0001 created, so it stays.
    for name, (table, _column) in FOREIGN_KEY_INDEXES.items():
        op.drop_index(name, table_name=table)
