"""Audit trail of staff changes and identity reveals.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import JSON, created_at

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor_id", sa.Integer()),
        sa.Column("actor_email", sa.String(255)),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target_type", sa.String(50)),
        sa.Column("target_id", sa.String(100)),
        sa.Column("details", JSON),
        created_at(),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_users.id"], ondelete="SET NULL", name=op.f("fk_audit_log_actor_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("idx_audit_log_created", "audit_log", ["created_at"])
    op.create_index("idx_audit_log_target", "audit_log", ["target_type", "target_id"])
    op.create_index("idx_audit_log_actor", "audit_log", ["actor_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
