"""Content authoring: prerequisite edges, content revisions, learning_content.is_archived
and .difficulty, and learning_submissions.prerequisites_met. Existing JSON prerequisites become edges.

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from migrations.coltypes import JSON, TS

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_content_prerequisites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("requires_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_content_prerequisites")),
        sa.ForeignKeyConstraint(["content_id"], ["learning_content.id"], ondelete="CASCADE",
                                name=op.f("fk_learning_content_prerequisites_content_id_learning_content")),
        sa.ForeignKeyConstraint(["requires_id"], ["learning_content.id"], ondelete="CASCADE",
                                name=op.f("fk_learning_content_prerequisites_requires_id_learning_content")),
        sa.UniqueConstraint("content_id", "requires_id", name="uq_learning_content_prerequisites_edge"),
    )
    op.create_index("idx_learning_content_prerequisites_requires", "learning_content_prerequisites", ["requires_id"])
    op.create_table(
        "learning_content_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_key", sa.String(100), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(255), nullable=True),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_content_revisions")),
        sa.ForeignKeyConstraint(["actor_id"], ["staff_users.id"], ondelete="SET NULL",
                                name=op.f("fk_learning_content_revisions_actor_id_staff_users")),
    )
    op.create_index("idx_learning_content_revisions_key", "learning_content_revisions", ["content_key", "id"])
    op.create_index("idx_learning_content_revisions_actor", "learning_content_revisions", ["actor_id"])
    with op.batch_alter_table("learning_content") as batch:
        batch.add_column(sa.Column("is_archived", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("difficulty", sa.String(20), nullable=True))
    with op.batch_alter_table("learning_submissions") as batch:
        batch.add_column(sa.Column("prerequisites_met", sa.Boolean(), nullable=True))
    _edges_from_json()


def _edges_from_json() -> None:
    content = sa.table("learning_content", sa.column("id", sa.Integer), sa.column("content_key", sa.String),
                       sa.column("prerequisites", JSON))
    edges = sa.table("learning_content_prerequisites", sa.column("content_id", sa.Integer),
                     sa.column("requires_id", sa.Integer))
    bind = op.get_bind()
    rows = bind.execute(sa.select(content.c.id, content.c.content_key, content.c.prerequisites)).all()
    ids = {r.content_key: r.id for r in rows}
    new = [{"content_id": r.id, "requires_id": ids[k]} for r in rows for k in dict.fromkeys(r.prerequisites or [])
           if k in ids and ids[k] != r.id]
    if new:
        bind.execute(edges.insert(), new)


def downgrade() -> None:
    with op.batch_alter_table("learning_submissions") as batch:
        batch.drop_column("prerequisites_met")
    with op.batch_alter_table("learning_content") as batch:
        batch.drop_column("difficulty")
        batch.drop_column("is_archived")
    op.drop_index("idx_learning_content_revisions_actor", table_name="learning_content_revisions")
    op.drop_index("idx_learning_content_revisions_key", table_name="learning_content_revisions")
    op.drop_table("learning_content_revisions")
    op.drop_index("idx_learning_content_prerequisites_requires", table_name="learning_content_prerequisites")
    op.drop_table("learning_content_prerequisites")
