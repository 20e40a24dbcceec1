"""Status columns accept only their known values: a named CHECK constraint on each.

    learning_packages.validation_status       pending | building | passed | failed
    learning_submissions.validator_status     pending | passed | failed | rejected
    learning_submissions.ai_detection_status  pending | clean | flagged | not_run
    learning_submissions.feedback_status      generated | retry
    learning_validator_runs.status            pending | passed | failed | rejected
    learning_submission_outcomes.validator_status  passed | failed

NULL stays allowed where the column is nullable. (learning_feedback.release_state has
had its constraint since 0004.) The sets are copied here rather than imported from
core.statuses, so this revision means the same thing after that module changes.

Before adding the constraints, values that differ from an allowed one only in case,
surrounding spaces or a space/hyphen for the underscore ('Passed', 'not run') are
rewritten to it; any other unknown value stops the upgrade with a message naming the
column, the values and their row counts, and nothing is changed.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.errors import Conflict

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

VALIDATOR = ("pending", "passed", "failed", "rejected")
ALLOWED = {
    ("learning_packages", "validation_status"): ("pending", "building", "passed", "failed"),
    ("learning_submissions", "validator_status"): VALIDATOR,
    ("learning_submissions", "ai_detection_status"): ("pending", "clean", "flagged", "not_run"),
    ("learning_submissions", "feedback_status"): ("generated", "retry"),
    ("learning_validator_runs", "status"): VALIDATOR,
    ("learning_submission_outcomes", "validator_status"): ("passed", "failed"),
}


def _normalised(column: sa.ColumnClause) -> sa.ColumnElement:
    return sa.func.replace(sa.func.replace(sa.func.lower(sa.func.trim(column)), " ", "_"), "-", "_")


def _normalise_legacy_spellings(conn: sa.Connection) -> None:
    for (table_name, column_name), values in ALLOWED.items():
        column = sa.column(column_name)
        table = sa.table(table_name, column)
        conn.execute(sa.update(table).where(column.not_in(values), _normalised(column).in_(values))
                     .values({column_name: _normalised(column)}))


def _refuse_unknown_values(conn: sa.Connection) -> None:
    problems = []
    for (table_name, column_name), values in ALLOWED.items():
        column = sa.column(column_name)
        table = sa.table(table_name, column)
        rows = conn.execute(sa.select(column, sa.func.count()).select_from(table)
                            .where(column.is_not(None), column.not_in(values))
                            .group_by(column).order_by(column)).all()
        if rows:
            found = ", ".join(f"{value!r} ({count} row{'s' if count != 1 else ''})" for value, count in rows)
            problems.append(f"{table_name}.{column_name} holds {found}; allowed: {', '.join(values)}")
    if problems:
        raise Conflict("Migration 0008 stopped, nothing was changed: " + "; ".join(problems)
                       + ". Correct or clear those rows, then run `ngi db upgrade` again.")


def upgrade() -> None:
    conn = op.get_bind()
    _normalise_legacy_spellings(conn)
    _refuse_unknown_values(conn)
    tables: dict[str, list[str]] = {}
    for table_name, column_name in ALLOWED:
        tables.setdefault(table_name, []).append(column_name)
    for table_name, columns in tables.items():
        with op.batch_alter_table(table_name) as batch:
            for column_name in columns:
                batch.create_check_constraint(
                    column_name, sa.column(column_name).in_(ALLOWED[table_name, column_name])
                )


def downgrade() -> None:
    tables: dict[str, list[str]] = {}
    for table_name, column_name in ALLOWED:
        tables.setdefault(table_name, []).append(column_name)
    for table_name, columns in tables.items():
        with op.batch_alter_table(table_name) as batch:
            for column_name in columns:
                batch.drop_constraint(op.f(f"ck_{table_name}_{column_name}"), type_="check")
