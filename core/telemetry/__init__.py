"""Telemetry ingestion: single events from the other services, and bulk imports of JSON
Lines or xAPI 1.0.3 statements.

Every event passes through `mask_ip` before it is stored (IPv4 keeps its first three
octets, IPv6 its first /48), and so does every address inside `event_data` text (nested
JSON strings too) and inside `user_agent`: the raw address is never written. Each event also updates the rollup (core/rollup.py) and the
student's learning_progress (core/progress.py) in the same transaction.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import progress, rollup
from core.access import Actor, require
from core.db import session_scope, utcnow
from core.errors import Invalid
from core.models import LearningTelemetry, Student, TelemetryKey
from core.sql_functions import bulk_insert_sql
from core.telemetry.masking import _scrub, mask_ip, mask_ips_in_text
from core.telemetry.parse import (
    COLUMNS,
    XAPI_IP_EXTENSION,
    XAPI_VERBS,
    BadLine,
    ImportResult,
    _Lookup,
    iso_duration_seconds,
)
from core.telemetry.rows import Row, parsed_rows, strict_refusal

__all__ = [
    "COLUMNS",
    "XAPI_IP_EXTENSION",
    "XAPI_VERBS",
    "BadLine",
    "ImportResult",
    "event_row",
    "import_events",
    "iso_duration_seconds",
    "lock_student",
    "mask_ip",
    "mask_ips_in_text",
    "progress_after_import",
    "rebuild_rollup",
    "record_event",
]


def event_row(
    *, user_id: int, event_type: str, event_category: str | None = None, module: str | None = None,
    unit: str | None = None, lesson: str | None = None, activity: str | None = None, company_id: int | None = None,
    submission_id: int | None = None, event_data: dict[str, Any] | None = None, session_id: str | None = None,
    time_spent_seconds: int | None = None, user_agent: str | None = None, ip_address: str | None = None,
    event_timestamp: datetime | None = None,
) -> dict:
    """The learning_telemetry row for one event, addresses masked (the demo bulk-inserts the same rows)."""
    return dict(
        user_id=user_id, event_type=event_type, event_category=event_category, module=module, unit=unit,
        lesson=lesson, activity=activity, company_id=company_id, submission_id=submission_id,
        event_data=_scrub(event_data), session_id=session_id, time_spent_seconds=time_spent_seconds,
        user_agent=mask_ips_in_text(user_agent), ip_address=mask_ip(ip_address),
        event_timestamp=event_timestamp or utcnow(),
    )


def lock_student(session: Session, user_id: int) -> None:
    """Serialise writers of one student's rollup and progress (read-modify-write rows):
    SELECT ... FOR UPDATE on PostgreSQL; SQLite writers already hold the database lock.
    A transaction that also updates the student's submissions takes this lock first,
    the same order as submit(), so the two never deadlock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Student.id).where(Student.id == user_id).with_for_update())


def record_event(
    session: Session, *, user_id: int, event_type: str, event_category: str | None = None,
    module: str | None = None, unit: str | None = None, lesson: str | None = None,
    activity: str | None = None, company_id: int | None = None, submission_id: int | None = None,
    event_data: dict[str, Any] | None = None, session_id: str | None = None,
    time_spent_seconds: int | None = None, user_agent: str | None = None, ip_address: str | None = None,
    event_timestamp: datetime | None = None,
) -> LearningTelemetry:
    """Store one event and fold it into the rollup and the student's progress."""
    lock_student(session, user_id)
    event = LearningTelemetry(**event_row(
        user_id=user_id, event_type=event_type, event_category=event_category, module=module, unit=unit,
        lesson=lesson, activity=activity, company_id=company_id, submission_id=submission_id,
        event_data=event_data, session_id=session_id, time_spent_seconds=time_spent_seconds,
        user_agent=user_agent, ip_address=ip_address, event_timestamp=event_timestamp,
    ))
    session.add(event)
    session.flush()
    cmap = rollup.content_map(session)
    rollup.apply_event(session, event, cmap=cmap)
    progress.refresh(session, [user_id], cmap=cmap)
    return event


def rebuild_rollup(session: Session) -> int:
    """Rebuild every rollup table from raw events and re-derive all progress; for code
    that inserts telemetry rows directly (the demo cohort, restores). Returns students."""
    return progress.recompute(session)


# --- bulk import ------------------------------------------------------------------

_SQLITE_SLICE = 10_000


def checked_file(path: str | Path, fmt: str) -> Path:
    """The file to import, or Invalid saying why it cannot be (both import paths)."""
    if fmt not in ("jsonl", "xapi"):
        raise Invalid(f"Unknown format {fmt!r}; use jsonl or xapi.")
    path = Path(path)
    if not path.is_file():
        raise Invalid(f"{path} does not exist or is not a file.")
    return path


def existing_keys(session: Session, keys: list[str]) -> set[str]:
    """The keys already imported. PostgreSQL takes them as one comma-joined text that
    the server splits (an IN list of 50,000 placeholders, or an array parameter, costs
    the driver more than the query; hex digests hold no comma); SQLite caps placeholders
    per statement, so it asks in slices."""
    column = TelemetryKey.event_key
    if session.get_bind().dialect.name == "postgresql":
        split = func.string_to_array(bindparam("keys", type_=String), ",", type_=ARRAY(String))
        return set(session.scalars(select(column).where(column == any_(split)), {"keys": ",".join(keys)}))
    found: set[str] = set()
    for start in range(0, len(keys), _SQLITE_SLICE):
        found.update(session.scalars(select(column).where(column.in_(bindparam("keys", expanding=True))),
                                     {"keys": keys[start:start + _SQLITE_SLICE]}))
    return found


def insert_new(session: Session, batch: list[Row], result: ImportResult) -> list[Row]:
    """Insert the rows of `batch` not imported before; count them (and the others as
    duplicates) in `result`. Returns the rows inserted."""
    existing = existing_keys(session, [digest for digest, _ in batch]) if batch else set()
    fresh = [row for row in batch if row[0] not in existing] if existing else batch
    result.duplicates += len(batch) - len(fresh)
    result.accepted += len(fresh)
    _insert(session, fresh)
    return fresh


def import_events(
    engine: Engine, path: str | Path, *, actor: Actor, fmt: str = "jsonl", strict: bool = False,
    batch_size: int = 5000, on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a JSON Lines or xAPI file in one unit of work of its own. Bad lines are
    reported by number and skipped (`strict=True`: any bad line rejects the whole file
    and nothing is written). Events already imported (same event id, statement id or
    natural key) are skipped. The file is local, read as it is written: no network or
    storage call happens inside the transaction."""
    require(actor, "telemetry.import")
    path = checked_file(path, fmt)
    with session_scope(engine, immediate=True) as session:
        return _import_events(session, path, fmt=fmt, strict=strict, batch_size=batch_size,
                              on_progress=on_progress)


def _import_events(session: Session, path: Path, *, fmt: str, strict: bool, batch_size: int,
                   on_progress: Callable[[int, int], None] | None) -> ImportResult:
    lookup = _Lookup(session)
    cmap = rollup.content_map(session)
    result = ImportResult()
    seen: set[str] = set()
    touched: set[int] = set()
    batch: list[Row] = []
    total = path.stat().st_size

    def flush() -> None:
        touched.update(values[0] for _, values in insert_new(session, batch, result))
        batch.clear()
        # Earlier batches' keys are in the table now (same transaction), so the
        # in-memory set only has to cover one batch.
        seen.clear()

    # Text over a binary handle, so progress can report the byte offset read so far.
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="strict") as stream:
        try:
            for row in parsed_rows(stream, fmt, lookup, cmap, result, seen):
                batch.append(row)
                if len(batch) >= batch_size:
                    flush()
                    if on_progress:
                        on_progress(raw.tell(), total)
        except UnicodeDecodeError:
            raise Invalid(f"{path.name} is not UTF-8 text.") from None
    if batch:
        flush()
    if on_progress:
        on_progress(total, total)
    if strict and result.errors:
        raise strict_refusal(path.name, result.errors)
    if touched:
        result.students = progress_after_import(session, touched, cmap)
    return result


def progress_after_import(session: Session, users: set[int], cmap: rollup.ContentMap) -> int:
    rollup.rebuild(session, user_ids=users, cmap=cmap)
    return progress.refresh(session, users, cmap=cmap)


def _insert(session: Session, rows: list[Row]) -> None:
    """COPY on PostgreSQL; executemany on SQLite, timestamps as the text UTCDateTime
    writes there (naive UTC with microseconds). Addresses are already masked and
    payloads serialised (core/telemetry/rows.py)."""
    if not rows:
        return
    connection = session.connection()
    raw = connection.connection.driver_connection
    if raw is None:  # only an invalidated connection has none; a session never hands one out
        raise RuntimeError("the database connection was invalidated before the telemetry insert")
    events_sql = bulk_insert_sql(connection, LearningTelemetry, COLUMNS)
    keys_sql = bulk_insert_sql(connection, TelemetryKey, ("event_key", "user_id"))
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(events_sql) as copy:
                write = copy.write_row
                for _, values in rows:
                    write(values)
            with cursor.copy(keys_sql) as copy:
                write = copy.write_row
                for digest, values in rows:
                    write((digest, values[0]))
        return
    cursor = raw.cursor()
    try:
        cursor.executemany(events_sql, [(*v[:-1], v[-1].replace(tzinfo=None).isoformat(" ", "microseconds"))
                                        for _, v in rows])
        cursor.executemany(keys_sql, [(digest, values[0]) for digest, values in rows])
    finally:
        cursor.close()
