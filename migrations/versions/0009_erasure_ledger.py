"""The erasure ledger `learning_erasures` (student id and time only, no foreign key),
read by `ngi backup restore` to replay erasures newer than the backup.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import TS

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_erasures")),
    )
    op.create_index("idx_learning_erasures_student", "learning_erasures", ["student_id", "erased_at"])


def downgrade() -> None:
    op.drop_index("idx_learning_erasures_student", table_name="learning_erasures")
    op.drop_table("learning_erasures")
