"""The job outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime
from core.models._columns import _created_at


class LearningJob(Base):
    """The outbox: work an upload leaves for later (recalculation, AI-detection, feedback),
    written in the submission's own transaction. Runners (procrastinate on PostgreSQL,
    the in-process poller on SQLite) move it through queued → running → done, or
    failed (retried with backoff) → parked (shown on the moderation page)."""

    __tablename__ = "learning_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'parked')", name="status"),
        Index("idx_learning_jobs_due", "status", "run_after"),
        Index("idx_learning_jobs_submission", "submission_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(50))
    payload: Mapped[Any] = mapped_column(JSONType)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("learning_submissions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    run_after: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = _created_at()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
