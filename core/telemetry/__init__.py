"""Telemetry ingestion: single events from the other services, and bulk imports of JSON
Lines or xAPI 1.0.3 statements.

Every event passes through `mask_ip` before it is stored (IPv4 keeps its first three
octets, IPv6 its first /48), and so does every address inside `event_data` text (nested
JSON strings too) and inside `user_agent`: the raw address is never written. Each event also updates the rollup (core/rollup.py) and the
student's learning_progress (core/progress.py) in the same transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core import progress, rollup
from core.access import Actor, require
from core.db import utcnow
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
    _natural_key,
    _records,
    _row_from_jsonl,
    _row_from_xapi,
    iso_duration_seconds,
)

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

def import_events(
    session: Session, path: str | Path, *, actor: Actor, fmt: str = "jsonl", strict: bool = False,
    batch_size: int = 5000, on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a JSON Lines or xAPI file. Bad lines are reported by number and skipped
    (`strict=True`: any bad line rejects the whole file and nothing is written). Events
    already imported (same event id, statement id or natural key) are skipped."""
    require(actor, "telemetry.import")
    if fmt not in ("jsonl", "xapi"):
        raise Invalid(f"Unknown format {fmt!r}; use jsonl or xapi.")
    path = Path(path)
    if not path.is_file():
        raise Invalid(f"{path} does not exist or is not a file.")
    lookup = _Lookup(session)
    cmap = rollup.content_map(session)
    result = ImportResult()
    seen: set[str] = set()
    touched: set[int] = set()
    batch: list[dict] = []
    total = path.stat().st_size

    def flush() -> None:
        keys = [row["_hash"] for row in batch]
        existing = set(session.scalars(
            select(TelemetryKey.event_key).where(TelemetryKey.event_key.in_(bindparam("keys", expanding=True))),
            {"keys": keys},
        )) if keys else set()
        fresh = [row for row in batch if row["_hash"] not in existing]
        result.duplicates += len(batch) - len(fresh)
        _insert(session, fresh)
        result.accepted += len(fresh)
        touched.update(row["user_id"] for row in fresh)
        batch.clear()
        # Earlier batches' keys are in the table now (same transaction), so the
        # in-memory set only has to cover one batch.
        seen.clear()

    # Text over a binary handle, so progress can report the byte offset read so far.
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="strict") as stream:
        try:
            for number, record in _records(stream, fmt):
                try:
                    if isinstance(record, BadLine):
                        raise record
                    row = _row_from_xapi(record, lookup, cmap) if fmt == "xapi" else _row_from_jsonl(record, lookup)
                except BadLine as err:
                    result.rejected += 1
                    result.errors.append((number, str(err)))
                    continue
                digest = hashlib.sha256((row.pop("_key") or _natural_key(row)).encode()).hexdigest()
                if digest in seen:
                    result.duplicates += 1
                    continue
                seen.add(digest)
                row["_hash"] = digest
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
        shown = "; ".join(f"line {line}: {message}" for line, message in result.errors[:10])
        more = f"; and {len(result.errors) - 10} more" if len(result.errors) > 10 else ""
        raise Invalid(f"{path.name}: {len(result.errors)} bad line(s), nothing imported (strict mode). "
                      f"{shown}{more}")
    if touched:
        result.students = progress_after_import(session, touched, cmap)
    return result


def progress_after_import(session: Session, users: set[int], cmap: rollup.ContentMap) -> int:
    rollup.rebuild(session, user_ids=users, cmap=cmap)
    return progress.refresh(session, users, cmap=cmap)


def _insert(session: Session, rows: list[dict]) -> None:
    """executemany on SQLite; COPY on PostgreSQL (an order of magnitude faster).
    `ip_address` is already masked here; payloads are scrubbed of addresses."""
    if not rows:
        return
    connection = session.connection()
    raw = connection.connection.driver_connection
    if raw is None:  # only an invalidated connection has none; a session never hands one out
        raise RuntimeError("the database connection was invalidated before the telemetry insert")
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor:
            with cursor.copy(bulk_insert_sql(connection, LearningTelemetry, COLUMNS)) as copy:
                for row in rows:
                    data = row["event_data"]
                    row["event_data"] = json.dumps(_scrub(data)) if data is not None else None
                    copy.write_row([row[c] for c in COLUMNS])
            with cursor.copy(bulk_insert_sql(connection, TelemetryKey, ("event_key", "user_id"))) as copy:
                for row in rows:
                    copy.write_row((row["_hash"], row["user_id"]))
        return
    # The same text UTCDateTime writes on SQLite: naive UTC with microseconds.
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    values = []
    for row in rows:
        data = row["event_data"]
        row["event_data"] = json.dumps(_scrub(data)) if data is not None else None
        row["event_timestamp"] = row["event_timestamp"].astimezone(UTC).strftime(stamp)
        values.append([row[c] for c in COLUMNS])
    cursor = raw.cursor()
    try:
        cursor.executemany(bulk_insert_sql(connection, LearningTelemetry, COLUMNS), values)
        cursor.executemany(bulk_insert_sql(connection, TelemetryKey, ("event_key", "user_id")),
                           [(row["_hash"], row["user_id"]) for row in rows])
    finally:
        cursor.close()
