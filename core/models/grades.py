"""Instructor grades (migration 0012)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime
from core.models._columns import _created_at


class LearningGrade(Base):
    """An instructor's grade of one submission against its activity's rubric, moving
    through not_started → in_progress → graded → released. Only released grades reach
    the student platform (the learning_released_grades view). When a grade exists it is
    the grade; the AI feedback composite is shown beside it, never instead of it."""

    __tablename__ = "learning_grades"
    __table_args__ = (
        UniqueConstraint("submission_id", name="uq_learning_grades_submission_id"),
        CheckConstraint("state IN ('not_started', 'in_progress', 'graded', 'released')", name="state"),
        CheckConstraint("overall_score IS NULL OR (overall_score >= 0 AND overall_score <= 100)",
                        name="overall_score_range"),
        Index("idx_learning_grades_user", "user_id"),
        Index("idx_learning_grades_allocated", "allocated_to", "state"),
        Index("idx_learning_grades_graded_by", "graded_by"),
        Index("idx_learning_grades_released_by", "released_by"),
        Index("idx_learning_grades_activity_state", "activity_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("learning_submissions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    activity_id: Mapped[str] = mapped_column(String(100))
    # [{criterion, score, weight, max}], the weight and max copied from the rubric in force.
    criterion_scores: Mapped[Any | None] = mapped_column(JSONType)
    overall_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), server_default=text("'not_started'"))
    allocated_to: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime | None] = _created_at()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
