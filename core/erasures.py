"""The erasure ledger: which student was erased and when, nothing else, kept where a
restore cannot undo it.

Two copies: the `learning_erasures` table (no foreign key to students, so erasure never
removes it; it commits atomically with the erasure) and an append-only JSON Lines file
in the backup folder, which a restore does not replace. After a restore, every entry of
the file that the restored table lacks is an erasure newer than the backup, and
`replay` performs it again before the database is used.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import config
from core.db import session_scope, utcnow
from core.models import ErasureRecord, Student

# Session.info key: set while replaying, so `record` keeps the original time and does
# not append the entry to the file a second time.
_REPLAYING = "ngi_erasure_replay_at"
_PENDING = "ngi_erasures_pending"


@dataclass(frozen=True, order=True)
class Erasure:
    erased_at: datetime
    student_id: int


def ledger_path() -> Path:
    return config.backup_dir() / "erasures.jsonl"


def record(session: Session, student_id: int) -> None:
    """Note the erasure in the caller's transaction; the file copy is appended once it
    commits (a rolled-back erasure never reaches the file)."""
    replayed_at = session.info.get(_REPLAYING)
    erased_at = replayed_at or utcnow()
    session.add(ErasureRecord(student_id=student_id, erased_at=erased_at))
    session.flush()
    if replayed_at is not None:
        return
    if _PENDING not in session.info:
        session.info[_PENDING] = []
        event.listen(session, "after_commit", _append_pending)
        event.listen(session, "after_soft_rollback", lambda s, _t: s.info.get(_PENDING, []).clear())
    session.info[_PENDING].append(Erasure(erased_at, student_id))


def _append_pending(session: Session) -> None:
    pending = session.info.get(_PENDING) or []
    if pending:
        append(pending)
        pending.clear()


def append(entries: list[Erasure], path: Path | None = None) -> None:
    path = path or ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        for entry in entries:
            out.write(json.dumps({"student_id": entry.student_id, "erased_at": entry.erased_at.isoformat()}) + "\n")
        out.flush()
        os.fsync(out.fileno())


def read_file(path: Path | None = None) -> list[Erasure]:
    path = path or ledger_path()
    if not path.exists():
        return []
    entries = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            entries.add(Erasure(datetime.fromisoformat(row["erased_at"]), int(row["student_id"])))
    return sorted(entries)


def in_database(session: Session) -> set[Erasure]:
    return {Erasure(at, sid) for sid, at in session.execute(select(ErasureRecord.student_id, ErasureRecord.erased_at))}


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ErasureRecord)) or 0


def sync_file(engine: Engine) -> int:
    """Append table entries the file lacks (a crash between commit and append); the
    backup run calls this first. Returns how many were added."""
    with session_scope(engine) as session:
        missing = sorted(in_database(session) - set(read_file()))
    if missing:
        append(missing)
    return len(missing)


def replay(engine: Engine, storage) -> list[Erasure]:
    """Erase again every student of the file's ledger that the database does not know
    was erased (a database restored from before the erasure), then delete their files."""
    from core import audit, auth, students

    actor = auth.system_actor(engine)
    keys: list[str] = []
    with session_scope(engine, immediate=True) as session:
        missing = [e for e in read_file() if e not in in_database(session)]
        for entry in missing:
            keys += students.file_keys(session, entry.student_id)
            if session.get(Student, entry.student_id) is None:
                session.add(ErasureRecord(student_id=entry.student_id, erased_at=entry.erased_at))
                continue
            session.info[_REPLAYING] = entry.erased_at
            try:
                students.erase_rows(session, entry.student_id)
            finally:
                session.info.pop(_REPLAYING, None)
        if missing:
            audit.record(session, actor, "backup.erasures_replayed", details={"erasures": len(missing)})
    # Files after the commit: a leftover file is harmless, a row without its file is not.
    for key in keys:
        storage.delete(key)
    return missing
