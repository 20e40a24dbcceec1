"""The audit trail: one row for every change a staff user makes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.models import AuditLog, StaffUser


def entry_row(*, actor: Actor | StaffUser | None, action: str, target_type: str | None = None, target_id: Any = None,
              details: dict | None = None) -> dict:
    """The audit_log row `record` inserts (the demo bulk-inserts the same rows)."""
    return dict(
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )


def record(
    session: Session, actor: Actor | None, action: str, *, target_type: str | None = None,
    target_id: Any = None, details: dict | None = None,
) -> AuditLog:
    """Write an audit row in the caller's transaction, so it commits with the change.

    `actor` is a core.access.Actor, or None for the system / CLI without a staff user.
    """
    entry = AuditLog(**entry_row(actor=actor, action=action, target_type=target_type, target_id=target_id, details=details))
    session.add(entry)
    session.flush()
    return entry


def recent(session: Session, *, target_type: str | None = None, target_id: Any = None, limit: int = 50):
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if target_type:
        query = query.where(AuditLog.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditLog.target_id == str(target_id))
    return list(session.scalars(query))
