"""Companies, their data packages, and the valuation leaderboard."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType
from core.models._columns import _created_at, _updated_at

if TYPE_CHECKING:
    from core.models.staff import StaffUser
    from core.models.students import LearningProgress, Student
    from core.models.submissions import LearningSubmission
    from core.models.telemetry import LearningTelemetry


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
        Index("idx_learning_packages_created_by", "created_by"),
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


class LearningLeaderboard(Base):
    __tablename__ = "learning_leaderboard"
    __table_args__ = (
        UniqueConstraint("user_id", "company_id", name="uq_learning_leaderboard_user_id_company_id"),
        # The appendix's 4 hex digits would collide; ids are unique per company.
        UniqueConstraint("company_id", "anonymous_id", name="uq_learning_leaderboard_company_id_anonymous_id"),
        Index("idx_learning_leaderboard_company", "company_id"),
        Index("idx_learning_leaderboard_submission", "submission_id"),
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
