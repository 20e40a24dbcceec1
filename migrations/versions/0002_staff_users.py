"""Staff accounts; packages.created_by and feedback.flagged_by now refer to them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import TS, created_at

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_login_at", TS),
        sa.Column("failed_login_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", TS),
        created_at(),
        sa.CheckConstraint("role IN ('instructor', 'admin', 'program_lead')", name=op.f("ck_staff_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    with op.batch_alter_table("learning_packages") as batch:
        batch.create_foreign_key(
            op.f("fk_learning_packages_created_by_staff_users"), "staff_users", ["created_by"], ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("learning_feedback") as batch:
        batch.create_foreign_key(
            op.f("fk_learning_feedback_flagged_by_staff_users"), "staff_users", ["flagged_by"], ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("learning_feedback") as batch:
        batch.drop_constraint(op.f("fk_learning_feedback_flagged_by_staff_users"), type_="foreignkey")
    with op.batch_alter_table("learning_packages") as batch:
        batch.drop_constraint(op.f("fk_learning_packages_created_by_staff_users"), type_="foreignkey")
    op.drop_table("staff_users")
