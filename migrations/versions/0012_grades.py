"""Grades: an instructor's rubric grade per submission with its marking workflow, the
views the student platform reads (released grades and released feedback only), and
one shape for learning_submissions.validator_errors.

- learning_grades: per-criterion scores (JSON, each with the rubric's weight and
  maximum), overall score, comment to the student, state not_started | in_progress |
  graded | released, who graded / released and when, the allocated marker. Rows go
  with the student (ON DELETE CASCADE on user_id and submission_id); a deleted staff
  account leaves the grade (SET NULL).
- learning_released_grades / learning_released_feedback: the only grade and feedback
  rows the student platform may read.
- validator_errors held either the flat list of findings or, in rows written by the
  analytics benchmark, the whole report ({status, checks: [{id, findings}]}); such rows
  are rewritten to the flat list. The downgrade leaves them flat (both shapes read).

Revision ID: 0012
Revises: 0008 (the lead rechains)
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import JSON, TS, created_at

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

T = "learning_grades"


def _fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], ondelete=ondelete, name=op.f(f"fk_{T}_{column}_{table}"))


def upgrade() -> None:
    op.create_table(
        T,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(100), nullable=False),
        sa.Column("criterion_scores", JSON),
        sa.Column("overall_score", sa.Numeric(5, 2)),
        sa.Column("comment", sa.Text()),
        sa.Column("state", sa.String(20), server_default=sa.text("'not_started'"), nullable=False),
        sa.Column("allocated_to", sa.Integer()),
        sa.Column("graded_by", sa.Integer()),
        sa.Column("graded_at", TS),
        sa.Column("released_by", sa.Integer()),
        sa.Column("released_at", TS),
        created_at(),
        sa.Column("updated_at", TS),
        _fk("submission_id", "learning_submissions", "CASCADE"),
        _fk("user_id", "students", "CASCADE"),
        _fk("allocated_to", "staff_users", "SET NULL"),
        _fk("graded_by", "staff_users", "SET NULL"),
        _fk("released_by", "staff_users", "SET NULL"),
        sa.CheckConstraint("state IN ('not_started', 'in_progress', 'graded', 'released')", name=op.f(f"ck_{T}_state")),
        sa.CheckConstraint("overall_score IS NULL OR (overall_score >= 0 AND overall_score <= 100)",
                           name=op.f(f"ck_{T}_overall_score_range")),
        sa.UniqueConstraint("submission_id", name=op.f(f"uq_{T}_submission_id")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{T}")),
    )
    op.create_index("idx_learning_grades_user", T, ["user_id"])
    op.create_index("idx_learning_grades_allocated", T, ["allocated_to", "state"])
    op.create_index("idx_learning_grades_graded_by", T, ["graded_by"])
    op.create_index("idx_learning_grades_released_by", T, ["released_by"])
    op.create_index("idx_learning_grades_activity_state", T, ["activity_id", "state"])
    op.execute(
        "CREATE VIEW learning_released_grades AS "
        "SELECT g.user_id, g.submission_id, g.activity_id, g.criterion_scores, g.overall_score, "
        "g.comment, g.released_at FROM learning_grades g WHERE g.state = 'released'"
    )
    op.execute(
        "CREATE VIEW learning_released_feedback AS "
        "SELECT f.user_id, f.submission_id, f.feedback_text, f.strengths, f.areas_for_improvement, "
        "f.specific_suggestions, f.released_at FROM learning_feedback f WHERE f.release_state = 'released'"
    )
    _flatten_validator_errors()


def _flatten_validator_errors() -> None:
    subs = sa.table("learning_submissions", sa.column("id", sa.Integer()), sa.column("validator_errors", JSON))
    conn = op.get_bind()
    for sub_id, value in conn.execute(sa.select(subs.c.id, subs.c.validator_errors)
                                      .where(subs.c.validator_errors.is_not(None))):
        if isinstance(value, dict):
            conn.execute(subs.update().where(subs.c.id == sub_id).values(validator_errors=flatten(value)))


def flatten(report: dict) -> list[dict]:
    """A stored report as the flat findings list (kept here: a migration means what it
    meant when written, whatever core.validation.report becomes)."""
    if report.get("status") == "rejected":
        return [{"check": None, "sheet": None, "cell": None, "period": None, "message": report.get("message")}]
    flat = []
    for check in report.get("checks") or []:
        for finding in check.get("findings") or []:
            flat.append({"check": check.get("id"), "sheet": finding.get("sheet"), "cell": finding.get("cell"),
                         "period": finding.get("period"), "message": finding.get("message"),
                         "expected": finding.get("expected"), "actual": finding.get("actual")})
        if check.get("status") == "failed" and not check.get("findings"):
            flat.append({"check": check.get("id"), "sheet": None, "cell": None, "period": None,
                         "message": check.get("note") or f"{check.get('id')} failed."})
    return flat


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS learning_released_feedback")
    op.execute("DROP VIEW IF EXISTS learning_released_grades")
    for name in ("idx_learning_grades_activity_state", "idx_learning_grades_released_by",
                 "idx_learning_grades_graded_by", "idx_learning_grades_allocated", "idx_learning_grades_user"):
        op.drop_index(name, table_name=T)
    op.drop_table(T)
