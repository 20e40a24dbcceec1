"""Server-side staff sessions: the browser's cookie holds a random token, this table
its SHA-256, with the staff member, created / last seen / absolute expiry, the user
agent and when it was revoked (sign-out, deactivation, password change).

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import TS

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("user_agent", sa.String(512)),
        sa.Column("revoked_at", TS),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], ondelete="CASCADE", name=op.f("fk_staff_sessions_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index("idx_staff_sessions_staff", "staff_sessions", ["staff_id"])


def downgrade() -> None:
    op.drop_table("staff_sessions")
