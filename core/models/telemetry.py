"""Raw telemetry events and the rollups derived from them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType, UTCDateTime

if TYPE_CHECKING:
    from core.models.companies import LearningCompany
    from core.models.students import Student
    from core.models.submissions import LearningSubmission


class LearningTelemetry(Base):
    __tablename__ = "learning_telemetry"
    __table_args__ = (
        Index("idx_learning_telemetry_user", "user_id"),
        Index("idx_learning_telemetry_type", "event_type"),
        Index("idx_learning_telemetry_session", "session_id"),
        Index("idx_learning_telemetry_company", "company_id"),
        Index("idx_learning_telemetry_submission", "submission_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(100))
    event_category: Mapped[str | None] = mapped_column(String(50))
    module: Mapped[str | None] = mapped_column(String(50))
    unit: Mapped[str | None] = mapped_column(String(100))
    lesson: Mapped[str | None] = mapped_column(String(100))
    activity: Mapped[str | None] = mapped_column(String(100))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("learning_companies.id", ondelete="SET NULL"))
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("learning_submissions.id", ondelete="SET NULL")
    )
    event_data: Mapped[Any | None] = mapped_column(JSONType)
    session_id: Mapped[str | None] = mapped_column(String(100))
    time_spent_seconds: Mapped[int | None] = mapped_column(Integer)
    user_agent: Mapped[str | None] = mapped_column(Text)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    event_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime(), server_default=func.now())

    student: Mapped[Student] = relationship(back_populates="telemetry")
    company: Mapped[LearningCompany | None] = relationship(back_populates="telemetry")
    submission: Mapped[LearningSubmission | None] = relationship(back_populates="telemetry")


# --- Telemetry rollups (migration 0005) -------------------------------------------
# Derived from learning_telemetry and rebuildable from it (`ngi telemetry rollup
# --rebuild`); the analytics page reads these, never the raw events.


class TelemetryDaily(Base):
    """One row per (student, program-timezone day): event counts by type and active time."""

    __tablename__ = "learning_telemetry_daily"
    __table_args__ = (
        Index("idx_learning_telemetry_daily_day", "day", "user_id"),
        Index("idx_learning_telemetry_daily_week", "week_start", "user_id"),
        Index("idx_learning_telemetry_daily_month", "month_start", "user_id", "day"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Stored so that weekly and monthly figures group without date functions, which
    # differ between the engines.
    week_start: Mapped[date] = mapped_column(Date)
    month_start: Mapped[date] = mapped_column(Date)
    events: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    lesson_views: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    activity_starts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    submissions: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    validator_passes: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    validator_fails: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    feedback_issued: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    other_events: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    active_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class ActivityFunnel(Base):
    """One row per (student, activity): when each funnel step was first seen, how many
    steps were reached in order, and when the activity was completed."""

    __tablename__ = "learning_activity_funnel"
    __table_args__ = (Index("idx_learning_activity_funnel_activity", "activity", "ordered_steps"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    activity: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lesson_view_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activity_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submission_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validator_pass_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    feedback_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ordered_steps: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelemetryStudentState(Base):
    """Per-student ingest state that lets each new event update the rollup in O(1):
    the latest event (its time and the active seconds credited to it so far), the
    latest learning context and company, and the first active day (retention cohort)."""

    __tablename__ = "learning_telemetry_state"
    __table_args__ = (Index("idx_learning_telemetry_state_company", "company_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), primary_key=True)
    first_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_active_week: Mapped[date] = mapped_column(Date)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    last_tail_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Start of the latest study session (events less than 30 minutes apart).
    session_start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    context_module: Mapped[str | None] = mapped_column(String(50))
    context_unit: Mapped[str | None] = mapped_column(String(100))
    context_lesson: Mapped[str | None] = mapped_column(String(100))
    context_activity: Mapped[str | None] = mapped_column(String(100))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("learning_companies.id", ondelete="SET NULL"))


class TelemetryKey(Base):
    """Idempotency keys of imported events (an event id, xAPI statement id or a hash of
    the natural key), so re-importing a file adds nothing."""

    __tablename__ = "learning_telemetry_keys"
    __table_args__ = (Index("idx_learning_telemetry_keys_user", "user_id"),)

    event_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))


class ValidatorCheckFailure(Base):
    """One row per failed validator check of a submission, expanded from its report
    ({status, checks: [{id, status, findings}]}) so hotspot queries need no JSON work.
    Refreshed when a validator_pass/validator_fail event names the submission, and by
    the rollup rebuild."""

    __tablename__ = "learning_check_failures"
    __table_args__ = (
        Index("idx_learning_check_failures_check", "check_id", "activity_id", "company_id", "user_id"),
        Index("idx_learning_check_failures_user", "user_id"),
        Index("idx_learning_check_failures_company", "company_id"),
    )

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("learning_submissions.id", ondelete="CASCADE"), primary_key=True
    )
    check_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("learning_companies.id", ondelete="CASCADE"))
    activity_id: Mapped[str] = mapped_column(String(100))
    module: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SubmissionOutcome(Base):
    """A slim copy of each validated submission's outcome (validator status, mean rubric
    score of its feedback), so outcome charts never scan the wide submission rows.
    Refreshed with ValidatorCheckFailure, and on feedback_issued events."""

    __tablename__ = "learning_submission_outcomes"
    __table_args__ = (
        Index("idx_learning_submission_outcomes_user", "user_id", "validator_status"),
        Index("idx_learning_submission_outcomes_company", "company_id"),
    )

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("learning_submissions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("learning_companies.id", ondelete="CASCADE"))
    activity_id: Mapped[str] = mapped_column(String(100))
    module: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validator_status: Mapped[str] = mapped_column(String(20))
    rubric_composite: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
