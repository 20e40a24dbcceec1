"""Bulk telemetry import: raw events in chunks (PostgreSQL COPY, SQLite executemany),
the rollup and progress brought up to date set-based per chunk, a progress callback
with events/s and a summary that serialises to JSON.

Validation, masking and deduplication are core/telemetry.py's (the same rows land as
through `telemetry.import_events`); what differs is the work around them:

- **Chunks.** Events go in `chunk_size` at a time; after each chunk the students it
  finished are folded into the rollup and progress by `rollup.rebuild` (one
  INSERT … SELECT per rollup table per 500 students: a statement per table over the
  affected days and students, never a statement per event) and `progress.refresh`.
- **When a student is finished.** A student is rebuilt once a chunk goes by without
  their events (exports are usually grouped by student), and everyone still pending at
  the end. A time-ordered file keeps its students pending until the end, so no student
  is ever rebuilt more than once per stretch of their events; the result equals a full
  rebuild either way (tests/test_telemetry_bulk.py).
- **Hot spots.** Masking repeats on the same addresses, so `telemetry.mask_ip` is
  cached; keys are looked up once per chunk.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core import progress, rollup, telemetry
from core.access import Actor, require
from core.errors import Invalid
from core.models import TelemetryKey

CHUNK_SIZE = 50_000
_SQLITE_SLICE = 10_000


@dataclass
class BulkResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    students: int = 0
    chunks: int = 0
    seconds: float = 0.0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return round((self.accepted + self.duplicates + self.rejected) / self.seconds, 1) if self.seconds else 0.0

    def summary(self) -> dict:
        """What `ngi telemetry import` prints as JSON at the end (first 50 errors)."""
        out = asdict(self)
        out["errors"] = [{"line": line, "message": message} for line, message in self.errors[:50]]
        out["more_errors"] = max(0, len(self.errors) - 50)
        out["seconds"] = round(self.seconds, 3)
        out["events_per_second"] = self.events_per_second
        return out


@dataclass
class Progress:
    """What the progress callback receives after each chunk."""

    events: int
    bytes_read: int
    bytes_total: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


_NETWORKS: dict[str, bool] = {}  # 'a.b.c' -> whether it is a valid IPv4 /24 prefix


def _ipv4_network(raw: str) -> str | None:
    """'198.51.1.108' -> '198.51.1.0' for a plain dotted quad, else None (left to
    telemetry.mask_ip). Masking the /24 is idempotent, and a cohort comes from few /24s,
    so handing the parser the network keeps telemetry.mask_ip's cache hot."""
    head, _, last = raw.rpartition(".")
    if not (last.isdigit() and len(last) <= 3 and int(last) <= 255 and (last == "0" or last[0] != "0")):
        return None
    valid = _NETWORKS.get(head)
    if valid is None:
        parts = head.split(".")
        valid = len(parts) == 3 and all(p.isdigit() and str(int(p)) == p and int(p) <= 255 for p in parts)
        if len(_NETWORKS) < 100_000:
            _NETWORKS[head] = valid
    return head + ".0" if valid else None


def _parse(record, lookup, cmap, fmt: str) -> dict:
    if isinstance(record, telemetry.BadLine):
        raise record
    if fmt == "xapi":
        return telemetry._row_from_xapi(record, lookup, cmap)
    ip = record.get("ip_address") if isinstance(record, dict) else None
    if isinstance(ip, str) and (network := _ipv4_network(ip)) is not None:
        record = {**record, "ip_address": network}
    return telemetry._row_from_jsonl(record, lookup)


def _existing(session: Session, keys: list[str]) -> set[str]:
    """The keys already imported. PostgreSQL takes them as one array parameter (an IN
    list of 50,000 placeholders costs the driver more than the query); SQLite caps
    placeholders per statement, so it asks in slices."""
    column = TelemetryKey.event_key
    if session.get_bind().dialect.name == "postgresql":
        return set(session.scalars(select(column).where(column == any_(bindparam("keys", type_=ARRAY(String)))),
                                   {"keys": keys}))
    found: set[str] = set()
    for start in range(0, len(keys), _SQLITE_SLICE):
        found.update(session.scalars(select(column).where(column.in_(bindparam("keys", expanding=True))),
                                     {"keys": keys[start:start + _SQLITE_SLICE]}))
    return found


def import_bulk(
    session: Session, path: str | Path, *, actor: Actor, fmt: str = "jsonl", strict: bool = False,
    chunk_size: int = CHUNK_SIZE, on_progress: Callable[[Progress], None] | None = None,
) -> BulkResult:
    """Import a JSON Lines or xAPI file in chunks, in the caller's transaction. The same
    contract as `telemetry.import_events`: bad lines reported by number and skipped
    (`strict`: any bad line and nothing is written), duplicates skipped."""
    require(actor, "telemetry.import")
    if fmt not in ("jsonl", "xapi"):
        raise Invalid(f"Unknown format {fmt!r}; use jsonl or xapi.")
    path = Path(path)
    if not path.is_file():
        raise Invalid(f"{path} does not exist or is not a file.")
    started = time.perf_counter()
    lookup = telemetry._Lookup(session)
    cmap = rollup.content_map(session)
    result = BulkResult()
    total = path.stat().st_size
    batch: list[dict] = []
    seen: set[str] = set()
    pending: set[int] = set()  # students with imported events not yet in the rollup
    rolled: set[int] = set()

    def fold(users: set[int]) -> None:
        if users:
            rollup.rebuild(session, user_ids=users, cmap=cmap)
            progress.refresh(session, users, cmap=cmap)
            rolled.update(users)

    def flush(stream) -> None:
        existing = _existing(session, [row["_hash"] for row in batch])
        fresh = [row for row in batch if row["_hash"] not in existing]
        result.duplicates += len(batch) - len(fresh)
        telemetry._insert(session, fresh)
        result.accepted += len(fresh)
        in_chunk = {row["user_id"] for row in fresh}
        batch.clear()
        seen.clear()
        result.chunks += 1
        if not strict:  # strict waits for the whole file before writing anything lasting
            fold(pending - in_chunk)
            pending.difference_update(pending - in_chunk)
        pending.update(in_chunk)
        if on_progress:
            on_progress(Progress(result.accepted + result.duplicates + result.rejected,
                                 stream.buffer.tell() if hasattr(stream, "buffer") else 0, total,
                                 time.perf_counter() - started))

    with path.open(encoding="utf-8", errors="strict") as stream:
        try:
            for number, record in telemetry._records(stream, fmt):
                try:
                    row = _parse(record, lookup, cmap, fmt)
                except telemetry.BadLine as err:
                    result.rejected += 1
                    result.errors.append((number, str(err)))
                    continue
                digest = hashlib.sha256((row.pop("_key") or telemetry._natural_key(row)).encode()).hexdigest()
                if digest in seen:
                    result.duplicates += 1
                    continue
                seen.add(digest)
                row["_hash"] = digest
                batch.append(row)
                if len(batch) >= chunk_size:
                    flush(stream)
        except UnicodeDecodeError:
            raise Invalid(f"{path.name} is not UTF-8 text.") from None
        if batch:
            flush(stream)
    if strict and result.errors:
        shown = "; ".join(f"line {line}: {message}" for line, message in result.errors[:10])
        more = f"; and {len(result.errors) - 10} more" if len(result.errors) > 10 else ""
        raise Invalid(f"{path.name}: {len(result.errors)} bad line(s), nothing imported (strict mode). "
                      f"{shown}{more}")
    fold(pending)
    result.students = len(rolled)
    result.seconds = time.perf_counter() - started
    if on_progress:
        on_progress(Progress(result.accepted + result.duplicates + result.rejected, total, total, result.seconds))
    return result
