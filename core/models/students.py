"""Students, their progress, and the course content they work through."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType, UTCDateTime
from core.models._columns import _created_at, _updated_at

if TYPE_CHECKING:
    from core.models.companies import LearningCompany, LearningLeaderboard
    from core.models.submissions import LearningFeedback, LearningSubmission
    from core.models.telemetry import LearningTelemetry


class Student(Base):
    """Owned by the wider platform; the initial migration creates it only if absent."""

    __tablename__ = "students"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(255))
    cohort: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime | None] = _created_at()

    progress: Mapped[LearningProgress | None] = relationship(
        back_populates="student", cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )
    submissions: Mapped[list[LearningSubmission]] = relationship(
        back_populates="student", cascade="all, delete-orphan", passive_deletes=True
    )
    feedback: Mapped[list[LearningFeedback]] = relationship(
        back_populates="student", cascade="all, delete-orphan", passive_deletes=True
    )
    leaderboard_entries: Mapped[list[LearningLeaderboard]] = relationship(
        back_populates="student", cascade="all, delete-orphan", passive_deletes=True
    )
    telemetry: Mapped[list[LearningTelemetry]] = relationship(
        back_populates="student", cascade="all, delete-orphan", passive_deletes=True
    )


class LearningProgress(Base):
    __tablename__ = "learning_progress"
    __table_args__ = (
        Index("idx_learning_progress_user", "user_id"),
        Index("idx_learning_progress_company", "selected_company_id"),
        Index("idx_learning_progress_module", "current_module"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), unique=True)
    selected_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("learning_companies.id", ondelete="SET NULL")
    )
    current_module: Mapped[str | None] = mapped_column(String(50))
    current_unit: Mapped[str | None] = mapped_column(String(100))
    current_activity: Mapped[str | None] = mapped_column(String(100))
    modules_completed: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    units_completed: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    activities_completed: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    completion_percentage: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), server_default=text("0.0"))
    current_streak_days: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    longest_streak_days: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    last_activity_date: Mapped[date | None] = mapped_column(Date)
    streak_milestones: Mapped[Any | None] = mapped_column(JSONType)
    total_minutes_invested: Mapped[int | None] = mapped_column(Integer, server_default=text("0"))
    last_session_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    capstone_submitted: Mapped[bool | None] = mapped_column(Boolean, server_default=false())
    capstone_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime | None] = _created_at()
    updated_at: Mapped[datetime | None] = _updated_at()

    student: Mapped[Student] = relationship(back_populates="progress")
    selected_company: Mapped[LearningCompany | None] = relationship(back_populates="progress_selections")


class LearningContent(Base):
    __tablename__ = "learning_content"
    __table_args__ = (
        Index("idx_learning_content_type", "content_type"),
        Index("idx_learning_content_parent", "parent_id"),
        Index("idx_learning_content_key", "content_key"),
        Index("idx_learning_content_published", "is_published"),
        Index("idx_learning_content_sequence", "parent_id", "sequence_order"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    content_type: Mapped[str] = mapped_column(String(50))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("learning_content.id", ondelete="CASCADE"))
    content_key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    subtitle: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    learning_objectives: Mapped[Any | None] = mapped_column(JSONType)
    content_body: Mapped[str | None] = mapped_column(Text)
    estimated_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    animation_scene_class: Mapped[str | None] = mapped_column(String(100))
    animation_video_url: Mapped[str | None] = mapped_column(Text)
    animation_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    interactive_component_id: Mapped[str | None] = mapped_column(String(100))
    sequence_order: Mapped[int] = mapped_column(Integer)
    prerequisites: Mapped[Any | None] = mapped_column(JSONType)
    activity_type: Mapped[str | None] = mapped_column(String(50))
    deliverable_template_url: Mapped[str | None] = mapped_column(Text)
    rubric_criteria: Mapped[Any | None] = mapped_column(JSONType)
    # An archived node keeps its rows and submissions but is hidden from students and
    # from progress (migration 0014); difficulty: introductory | intermediate | advanced.
    is_archived: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    difficulty: Mapped[str | None] = mapped_column(String(20))
    is_published: Mapped[bool | None] = mapped_column(Boolean, server_default=false())
    version: Mapped[str | None] = mapped_column(String(20), server_default=text("'1.0'"))
    created_at: Mapped[datetime | None] = _created_at()
    updated_at: Mapped[datetime | None] = _updated_at()

    parent: Mapped[LearningContent | None] = relationship(back_populates="children", remote_side=[id])
    children: Mapped[list[LearningContent]] = relationship(
        back_populates="parent",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LearningContent.sequence_order",
    )


class ErasureRecord(Base):
    """The erasure ledger: which student was erased, and when; nothing else. No foreign
    key to students, so erasure never removes it and a restore can learn what to replay
    (core/erasures.py keeps a copy outside the database too)."""

    __tablename__ = "learning_erasures"
    __table_args__ = (Index("idx_learning_erasures_student", "student_id", "erased_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(Integer)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
