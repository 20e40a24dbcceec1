"""Content authoring (migration 0014): prerequisite edges between content nodes and
the revision history of every authoring change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime


class ContentPrerequisite(Base):
    """An edge: `content_id` requires `requires_id` to be completed first."""

    __tablename__ = "learning_content_prerequisites"
    __table_args__ = (
        UniqueConstraint("content_id", "requires_id", name="uq_learning_content_prerequisites_edge"),
        Index("idx_learning_content_prerequisites_requires", "requires_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("learning_content.id", ondelete="CASCADE"))
    requires_id: Mapped[int] = mapped_column(ForeignKey("learning_content.id", ondelete="CASCADE"))


class ContentRevision(Base):
    """One authoring change to one node: who, when, what it was and what it became.
    `before` is None for a creation, `after` None for a deletion."""

    __tablename__ = "learning_content_revisions"
    __table_args__ = (
        Index("idx_learning_content_revisions_key", "content_key", "id"),
        Index("idx_learning_content_revisions_actor", "actor_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_key: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    actor_email: Mapped[str | None] = mapped_column(String(255))
    before: Mapped[Any | None] = mapped_column(JSONType)
    after: Mapped[Any | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
