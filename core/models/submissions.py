"""Submissions, their feedback, validator runs and feedback failures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType, UTCDateTime
from core.models._columns import _created_at

if TYPE_CHECKING:
    from core.models.companies import LearningCompany, LearningLeaderboard
    from core.models.staff import StaffUser
    from core.models.students import Student
    from core.models.telemetry import LearningTelemetry


class LearningSubmission(Base):
    __tablename__ = "learning_submissions"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "activity_id", "version", name="uq_learning_submissions_user_id_activity_id_version"
        ),
        Index("idx_learning_submissions_user", "user_id"),
        Index("idx_learning_submissions_activity", "activity_id"),
        Index("idx_learning_submissions_latest", "user_id", "activity_id", "is_latest"),
        Index("idx_learning_submissions_validator", "validator_status"),
        Index("idx_learning_submissions_ai", "ai_detection_status"),
        Index("idx_learning_submissions_company", "company_id"),
        Index("idx_learning_submissions_reviewed_by", "reviewed_by"),
        # At most one latest version per (user, activity), enforced by the database.
        Index(
            "uq_learning_submissions_one_latest",
            "user_id",
            "activity_id",
            unique=True,
            sqlite_where=text("is_latest"),
            postgresql_where=text("is_latest"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("learning_companies.id", ondelete="CASCADE"))
    activity_id: Mapped[str] = mapped_column(String(100))
    module: Mapped[str] = mapped_column(String(50))
    submission_type: Mapped[str] = mapped_column(String(50))
    version: Mapped[int] = mapped_column(Integer)
    file_path: Mapped[str] = mapped_column(String(500))
    file_name: Mapped[str] = mapped_column(String(255))
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    file_hash: Mapped[str | None] = mapped_column(String(64))
    validator_status: Mapped[str | None] = mapped_column(String(20))
    validator_errors: Mapped[Any | None] = mapped_column(JSONType)
    validator_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ai_detection_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    ai_detection_status: Mapped[str | None] = mapped_column(String(20))
    # Whether the student had met the activity's prerequisites when the work arrived
    # (NULL: recorded before prerequisites were tracked; migration 0014).
    prerequisites_met: Mapped[bool | None] = mapped_column(Boolean)
    ai_detection_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submission_notes: Mapped[str | None] = mapped_column(Text)
    is_latest: Mapped[bool | None] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime | None] = _created_at()
    # Added by migration 0004 (review and moderation).
    ai_detection_details: Mapped[Any | None] = mapped_column(JSONType)
    feedback_status: Mapped[str | None] = mapped_column(String(20))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_notes: Mapped[str | None] = mapped_column(Text)

    student: Mapped[Student] = relationship(back_populates="submissions")
    company: Mapped[LearningCompany] = relationship(back_populates="submissions")
    feedback: Mapped[list[LearningFeedback]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True
    )
    leaderboard_entries: Mapped[list[LearningLeaderboard]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True
    )
    telemetry: Mapped[list[LearningTelemetry]] = relationship(
        back_populates="submission", passive_deletes=True
    )
    validator_runs: Mapped[list[ValidatorRun]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True
    )
    feedback_failures: Mapped[list[FeedbackFailure]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True
    )


class LearningFeedback(Base):
    __tablename__ = "learning_feedback"
    __table_args__ = (
        Index("idx_learning_feedback_submission", "submission_id"),
        Index("idx_learning_feedback_user", "user_id"),
        Index("idx_learning_feedback_flagged", "is_flagged"),
        Index("idx_learning_feedback_created", "created_at"),
        Index("idx_learning_feedback_flagged_by", "flagged_by"),
        Index("idx_learning_feedback_released_by", "released_by"),
        Index("idx_learning_feedback_edited_by", "edited_by"),
        Index("idx_learning_feedback_regenerated_from", "regenerated_from_id"),
        CheckConstraint("release_state IN ('held', 'released')", name="release_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("learning_submissions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    feedback_type: Mapped[str] = mapped_column(String(50))
    persona: Mapped[str | None] = mapped_column(String(50), server_default=text("'project_lead'"))
    feedback_text: Mapped[str] = mapped_column(Text)
    strengths: Mapped[Any | None] = mapped_column(JSONType)
    areas_for_improvement: Mapped[Any | None] = mapped_column(JSONType)
    specific_suggestions: Mapped[Any | None] = mapped_column(JSONType)
    rubric_accuracy: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    rubric_documentation: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    rubric_presentation: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    rubric_reasoning: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    rubric_composite: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    openai_model: Mapped[str | None] = mapped_column(String(50))
    openai_tokens_input: Mapped[int | None] = mapped_column(Integer)
    openai_tokens_output: Mapped[int | None] = mapped_column(Integer)
    openai_cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    is_flagged: Mapped[bool | None] = mapped_column(Boolean, server_default=false())
    flag_reason: Mapped[str | None] = mapped_column(String(255))
    flagged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime | None] = _created_at()
    # Added by migration 0004 (review and moderation).
    provider: Mapped[str | None] = mapped_column(String(20))
    openai_tokens_cached: Mapped[int | None] = mapped_column(Integer)
    prompt: Mapped[Any | None] = mapped_column(JSONType)
    release_state: Mapped[str] = mapped_column(String(10), server_default=text("'held'"))
    hold_reasons: Mapped[Any | None] = mapped_column(JSONType)
    auto_flags: Mapped[Any | None] = mapped_column(JSONType)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    original_text: Mapped[str | None] = mapped_column(Text)
    edited_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    regenerated_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("learning_feedback.id", ondelete="SET NULL")
    )

    submission: Mapped[LearningSubmission] = relationship(back_populates="feedback")
    student: Mapped[Student] = relationship(back_populates="feedback")
    flagger: Mapped[StaffUser | None] = relationship(foreign_keys=[flagged_by])
    regenerated_from: Mapped[LearningFeedback | None] = relationship(remote_side=[id])


class ValidatorRun(Base):
    """Each run of the validators on a submission; the submission row mirrors the latest."""

    __tablename__ = "learning_validator_runs"
    __table_args__ = (
        Index("idx_learning_validator_runs_submission", "submission_id"),
        Index("idx_learning_validator_runs_run_by", "run_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("learning_submissions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    report: Mapped[Any | None] = mapped_column(JSONType)
    run_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    run_at: Mapped[datetime | None] = _created_at()

    submission: Mapped[LearningSubmission] = relationship(back_populates="validator_runs")


class FeedbackFailure(Base):
    """A generation that did not produce usable feedback: kept with the raw reply."""

    __tablename__ = "learning_feedback_failures"
    __table_args__ = (Index("idx_learning_feedback_failures_submission", "submission_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("learning_submissions.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(50))
    persona: Mapped[str | None] = mapped_column(String(50))
    error: Mapped[str] = mapped_column(Text)
    raw_reply: Mapped[str | None] = mapped_column(Text)
    openai_tokens_input: Mapped[int | None] = mapped_column(Integer)
    openai_tokens_output: Mapped[int | None] = mapped_column(Integer)
    openai_cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(10, 6))
    created_at: Mapped[datetime | None] = _created_at()

    submission: Mapped[LearningSubmission] = relationship(back_populates="feedback_failures")
