"""What the Operations page shows an admin: the last backup of each kind and its age, the
last verify, storage and database size, the erasure ledger and the job queue.

Each part comes from the module that owns it (core.backup, core.erasures, the
learning_jobs outbox). A part whose module or table is absent from this installation, or
that cannot be read, is reported as not configured rather than breaking the page.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from core.access import Actor, require
from core.db import Base, utcnow
from core.errors import DomainError

# Failures of a part that degrade it to "not configured" with the reason shown.
_PART_ERRORS = (DomainError, OSError, ValueError, KeyError, LookupError)
QUEUED, RUNNING, FAILED, PARKED = "queued", "running", "failed", "parked"


def describe_age(age: timedelta | None) -> str:
    if age is None:
        return "never"
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"


def _backup_module():
    try:
        from core import backup
    except ImportError:
        return None
    return backup


def backups(*, now: datetime | None = None) -> dict[str, Any]:
    """{configured, reason, kinds: [...], verify: {...} | None}."""
    backup = _backup_module()
    if backup is None:
        return {"configured": False, "reason": "backups are not part of this installation", "kinds": [],
                "verify": None}
    try:
        statuses = backup.backup_status(now)
        verify = backup.last_verify()
    except _PART_ERRORS as err:
        return {"configured": False, "reason": str(err).splitlines()[0], "kinds": [], "verify": None}
    kinds = [{"kind": s.kind, "last_at": s.last_at, "age": describe_age(s.age), "size_bytes": s.size,
              "last_attempt_ok": s.ok, "every": describe_age(s.due_every).removesuffix(" ago"),
              "overdue": s.overdue, "ever_ran": s.last_at is not None} for s in statuses]
    report = None
    if verify is not None:
        report = {"at": verify.at, "backup_id": verify.backup_id, "ok": verify.ok,
                  "differences": list(verify.differences)}
    return {"configured": True, "reason": None, "kinds": kinds, "verify": report}


def overdue_backups(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Kinds that have run before and whose last good backup is older than their schedule.
    A kind never run is not a warning here (S3 files, for one, are never backed up by
    restic); the Operations page shows it as "never"."""
    return [k for k in backups(now=now)["kinds"] if k["overdue"] and k["ever_ran"]]


def storage_used() -> dict[str, Any]:
    """Bytes and objects under the configured storage root."""
    from core.storage import LocalStorage, default_storage

    try:
        storage = default_storage()
        if isinstance(storage, LocalStorage):
            size = count = 0
            for folder, _dirs, files in os.walk(storage.root):
                for name in files:
                    size += (Path(folder) / name).stat().st_size
                    count += 1
            return {"where": str(storage.root), "bytes": size, "files": count, "error": None}
        found = storage.fs.find(storage.root, detail=True)  # type: ignore[attr-defined]
        return {"where": storage.url, "bytes": sum(int(info.get("size") or 0) for info in found.values()),  # type: ignore[attr-defined]
                "files": len(found), "error": None}
    except _PART_ERRORS as err:
        return {"where": None, "bytes": None, "files": None, "error": str(err).splitlines()[0]}


def database_size(session: Session) -> int | None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        return session.scalar(select(func.pg_database_size(func.current_database())))
    database = bind.engine.url.database
    if not database or database == ":memory:":
        return None
    return sum(p.stat().st_size for p in (Path(database), Path(f"{database}-wal")) if p.exists())


def erasure_count(session: Session) -> int | None:
    try:
        from core import erasures
    except ImportError:
        return None
    return erasures.count(session)


def _jobs_table() -> Table | None:
    import core.models  # noqa: F401 - fills the metadata

    return Base.metadata.tables.get("learning_jobs")


def job_queue(session: Session, table: Table | None = None) -> dict[str, int] | None:
    """Depth (queued + running) and failures (failed awaiting a retry, parked for good)."""
    table = table if table is not None else _jobs_table()
    if table is None:
        return None
    counts = {status: n for status, n in session.execute(
        select(table.c.status, func.count()).group_by(table.c.status))}
    return {"depth": counts.get(QUEUED, 0) + counts.get(RUNNING, 0), "queued": counts.get(QUEUED, 0),
            "running": counts.get(RUNNING, 0), "failed": counts.get(FAILED, 0), "parked": counts.get(PARKED, 0)}


def overview(session: Session, *, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    require(actor, "operations.read")
    now = now or utcnow()
    return {
        "now": now,
        "backups": backups(now=now),
        "storage": storage_used(),
        "database_bytes": database_size(session),
        "database_engine": session.get_bind().dialect.name,
        "erasures": erasure_count(session),
        "jobs": job_queue(session),
    }
