"""The audit trail: one row for every change a staff user makes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.access import Actor, require
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


def search(session: Session, *, actor: Actor, who: str | None = None, action: str | None = None,
           target_type: str | None = None, target_id: str | None = None, since: datetime | None = None,
           until: datetime | None = None, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The audit viewer's read: newest first, filtered by who (email or name, partial),
    what (action), target and when; one page of rows and the total."""
    require(actor, "audit.read")
    query = select(AuditLog, StaffUser.display_name).outerjoin(StaffUser, StaffUser.id == AuditLog.actor_id)
    if who:
        pattern = f"%{who.strip().lower()}%"
        query = query.where(or_(func.lower(AuditLog.actor_email).like(pattern),
                                func.lower(StaffUser.display_name).like(pattern)))
    if action:
        query = query.where(AuditLog.action == action)
    if target_type:
        query = query.where(AuditLog.target_type == target_type)
    if target_id:
        query = query.where(AuditLog.target_id == str(target_id).strip())
    if since:
        query = query.where(AuditLog.created_at >= since)
    if until:
        query = query.where(AuditLog.created_at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(AuditLog.id.desc()).limit(limit).offset(offset))
    return {"total": total, "rows": [
        {"id": e.id, "when": e.created_at, "who": name or e.actor_email or "system", "email": e.actor_email,
         "action": e.action, "target_type": e.target_type, "target_id": e.target_id, "details": e.details}
        for e, name in rows]}


def vocabulary(session: Session, *, actor: Actor) -> dict[str, list[str]]:
    """The actions and target types present, for the viewer's pickers."""
    require(actor, "audit.read")
    return {"actions": sorted(session.scalars(select(AuditLog.action).distinct())),
            "target_types": sorted(t for t in session.scalars(select(AuditLog.target_type).distinct()) if t)}
