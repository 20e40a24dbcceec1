"""Every ORM class: the eight `learning_*` tables of the schema appendix, the
platform's `students` table (modelled minimally; the platform owns it), the staff
tables, and the columns later migrations added (listed in the README).

Index names follow the appendix (`idx_*`); everything unnamed gets a name from the
metadata's naming convention.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import statuses
from core.db import Base, JSONType, UTCDateTime

STAFF_ROLES = ("instructor", "admin", "program_lead")


def _created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), server_default=func.now(), onupdate=func.now())


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


class LearningCompany(Base):
    __tablename__ = "learning_companies"
    __table_args__ = (
        Index("idx_learning_companies_ticker", "ticker"),
        Index("idx_learning_companies_active", "is_active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticker: Mapped[str] = mapped_column(String(10), unique=True)
    company_name: Mapped[str] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(100))
    sub_industry: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    headquarters: Mapped[str | None] = mapped_column(String(100))
    # Appendix says VARCHAR(10) but its own example 'December 31' is 11 characters.
    fiscal_year_end: Mapped[str | None] = mapped_column(String(50))
    sec_cik: Mapped[str | None] = mapped_column(String(20))
    ir_website_url: Mapped[str | None] = mapped_column(Text)
    revenue_model_type: Mapped[str | None] = mapped_column(String(50))
    revenue_driver_notes: Mapped[str | None] = mapped_column(Text)
    data_quality_score: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool | None] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime | None] = _created_at()
    updated_at: Mapped[datetime | None] = _updated_at()

    packages: Mapped[list[LearningPackage]] = relationship(
        back_populates="company", cascade="all, delete-orphan", passive_deletes=True
    )
    submissions: Mapped[list[LearningSubmission]] = relationship(
        back_populates="company", cascade="all, delete-orphan", passive_deletes=True
    )
    leaderboard_entries: Mapped[list[LearningLeaderboard]] = relationship(
        back_populates="company", cascade="all, delete-orphan", passive_deletes=True
    )
    progress_selections: Mapped[list[LearningProgress]] = relationship(
        back_populates="selected_company", passive_deletes=True
    )
    telemetry: Mapped[list[LearningTelemetry]] = relationship(
        back_populates="company", passive_deletes=True
    )


class LearningPackage(Base):
    __tablename__ = "learning_packages"
    __table_args__ = (
        UniqueConstraint("company_id", "version", name="uq_learning_packages_company_id_version"),
        Index("idx_learning_packages_company", "company_id"),
        Index("idx_learning_packages_current", "company_id", "is_current"),
        # At most one current package per company, enforced by the database.
        Index(
            "uq_learning_packages_one_current",
            "company_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("learning_companies.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    package_date: Mapped[date] = mapped_column(Date)
    # A relative storage key such as 'learning-packages/TSLA_FY2023_v3.xlsx'.
    file_path: Mapped[str] = mapped_column(String(500))
    file_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    file_hash: Mapped[str | None] = mapped_column(String(64))
    data_sources: Mapped[Any | None] = mapped_column(JSONType)
    ingestion_method: Mapped[str | None] = mapped_column(String(50))
    validation_status: Mapped[str | None] = mapped_column(String(20))
    validation_errors: Mapped[Any | None] = mapped_column(JSONType)
    is_current: Mapped[bool | None] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime | None] = _created_at()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))

    company: Mapped[LearningCompany] = relationship(back_populates="packages")
    creator: Mapped[StaffUser | None] = relationship(back_populates="packages_created")


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


class LearningLeaderboard(Base):
    __tablename__ = "learning_leaderboard"
    __table_args__ = (
        UniqueConstraint("user_id", "company_id", name="uq_learning_leaderboard_user_id_company_id"),
        # The appendix's 4 hex digits would collide; ids are unique per company.
        UniqueConstraint("company_id", "anonymous_id", name="uq_learning_leaderboard_company_id_anonymous_id"),
        Index("idx_learning_leaderboard_company", "company_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(ForeignKey("learning_companies.id", ondelete="CASCADE"))
    dcf_price_target: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    comps_price_target: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    final_price_target: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    valuation_date: Mapped[date] = mapped_column(Date)
    anonymous_id: Mapped[str] = mapped_column(String(50))
    submission_id: Mapped[int] = mapped_column(ForeignKey("learning_submissions.id", ondelete="CASCADE"))
    created_at: Mapped[datetime | None] = _created_at()

    student: Mapped[Student] = relationship(back_populates="leaderboard_entries")
    company: Mapped[LearningCompany] = relationship(back_populates="leaderboard_entries")
    submission: Mapped[LearningSubmission] = relationship(back_populates="leaderboard_entries")


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


class StaffUser(Base):
    """Instructors, admins and program leads who sign in to the dashboard."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('instructor', 'admin', 'program_lead')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    # Null for accounts that only sign in through OIDC.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=false())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_login_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime | None] = _created_at()

    packages_created: Mapped[list[LearningPackage]] = relationship(back_populates="creator")
    audit_entries: Mapped[list[AuditLog]] = relationship(back_populates="actor")


class AuditLog(Base):
    """Every change a staff user makes, and every permitted identity reveal."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("idx_audit_log_created", "created_at"),
        Index("idx_audit_log_target", "target_type", "target_id"),
        Index("idx_audit_log_actor", "actor_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    # Kept as text too, so the trail survives the staff account being deleted.
    actor_email: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[Any | None] = mapped_column(JSONType)
    created_at: Mapped[datetime | None] = _created_at()

    actor: Mapped[StaffUser | None] = relationship(back_populates="audit_entries")


class ValidatorRun(Base):
    """Each run of the validators on a submission; the submission row mirrors the latest."""

    __tablename__ = "learning_validator_runs"
    __table_args__ = (Index("idx_learning_validator_runs_submission", "submission_id"),)

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


# Descending indexes from the appendix; declared on the columns so autogenerate can
# compare them with what the database reflects.
Index("idx_learning_packages_date", LearningPackage.package_date.desc())
Index("idx_learning_leaderboard_date", LearningLeaderboard.valuation_date.desc())
Index("idx_learning_telemetry_timestamp", LearningTelemetry.event_timestamp.desc())


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
    __table_args__ = (Index("idx_learning_check_failures_check", "check_id", "activity_id", "company_id", "user_id"),)

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
    __table_args__ = (Index("idx_learning_submission_outcomes_user", "user_id", "validator_status"),)

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


# --- Status columns (migration 0008) -----------------------------------------------
# Each accepts only its values from core.statuses: a named CHECK constraint
# (ck_<table>_<column>) refuses anything else on both engines. NULL passes, as in any
# CHECK, so nullable columns stay nullable. learning_feedback.release_state has had its
# constraint since 0004 (statuses.RELEASE; tests/test_statuses.py keeps them equal).


def _allowed(model: type[Base], column_name: str, values: tuple[str, ...]) -> None:
    table = Base.metadata.tables[model.__tablename__]
    table.append_constraint(CheckConstraint(table.c[column_name].in_(values), name=column_name))


_allowed(LearningPackage, "validation_status", statuses.PACKAGE_VALIDATION)
_allowed(LearningSubmission, "validator_status", statuses.VALIDATOR)
_allowed(LearningSubmission, "ai_detection_status", statuses.AI_DETECTION)
_allowed(LearningSubmission, "feedback_status", statuses.FEEDBACK)
_allowed(ValidatorRun, "status", statuses.VALIDATOR)
_allowed(SubmissionOutcome, "validator_status", statuses.OUTCOME)


# --- Grades (migration 0012) ------------------------------------------------------


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


# validator_errors has one shape, the flat findings list, whatever a writer hands it.
def _flat_validator_errors(target, value, oldvalue, initiator):
    from core.validation.report import flat_errors

    return flat_errors(value)


event.listen(LearningSubmission.validator_errors, "set", _flat_validator_errors, retval=True)
