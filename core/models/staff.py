"""Staff accounts and the audit log of what they did."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType, UTCDateTime
from core.models._columns import _created_at

if TYPE_CHECKING:
    from core.models.companies import LearningPackage


STAFF_ROLES = ("instructor", "admin", "program_lead")


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


class StaffSession(Base):
    """A signed-in browser: the SHA-256 of the random token its cookie holds (never the
    token itself), so a stolen database cannot be replayed as a cookie."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("idx_staff_sessions_staff", "staff_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(512))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
