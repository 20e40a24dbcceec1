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
- **Hot spots.** Good lines become tuples through precompiled checks
  (core/telemetry/rows.py; anything unusual goes through the full parser, which names
  the field), masking is cached (a cohort repeats its addresses), keys are looked up
  once per chunk, and rows go to COPY / executemany as they are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import progress, rollup, telemetry
from core.access import Actor, require
from core.db import session_scope
from core.errors import Invalid
from core.telemetry.rows import Row, parsed_rows, strict_refusal

CHUNK_SIZE = 50_000


@dataclass
class BulkResult(telemetry.ImportResult):
    """telemetry.ImportResult, with the chunks written and the time taken."""

    chunks: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return round((self.accepted + self.duplicates + self.rejected) / self.seconds, 1) if self.seconds else 0.0

    def as_json(self) -> dict:
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


def import_bulk(
    engine: Engine, path: str | Path, *, actor: Actor, fmt: str = "jsonl", strict: bool = False,
    chunk_size: int = CHUNK_SIZE, on_progress: Callable[[Progress], None] | None = None,
) -> BulkResult:
    """Import a JSON Lines or xAPI file in chunks, in one unit of work of its own (a
    failure part-way leaves nothing). The same contract as `telemetry.import_events`: bad
    lines reported by number and skipped (`strict`: any bad line and nothing is written),
    duplicates skipped."""
    require(actor, "telemetry.import")
    path = telemetry.checked_file(path, fmt)
    with session_scope(engine, immediate=True) as session:
        return _import_bulk(session, path, fmt=fmt, strict=strict, chunk_size=chunk_size, on_progress=on_progress)


def _import_bulk(session: Session, path: Path, *, fmt: str, strict: bool, chunk_size: int,
                 on_progress: Callable[[Progress], None] | None) -> BulkResult:
    started = time.perf_counter()
    lookup = telemetry._Lookup(session)
    cmap = rollup.content_map(session)
    result = BulkResult()
    total = path.stat().st_size
    batch: list[Row] = []
    seen: set[str] = set()
    pending: set[int] = set()  # students with imported events not yet in the rollup
    rolled: set[int] = set()

    def fold(users: set[int]) -> None:
        if users:
            rollup.rebuild(session, user_ids=users, cmap=cmap)
            progress.refresh(session, users, cmap=cmap)
            rolled.update(users)

    def flush(stream) -> None:
        in_chunk = {values[0] for _, values in telemetry.insert_new(session, batch, result)}
        batch.clear()
        seen.clear()
        result.chunks += 1
        if not strict:  # strict waits for the whole file before writing anything lasting
            fold(pending - in_chunk)
            pending.intersection_update(in_chunk)
        pending.update(in_chunk)
        if on_progress:
            on_progress(Progress(result.accepted + result.duplicates + result.rejected,
                                 stream.buffer.tell() if hasattr(stream, "buffer") else 0, total,
                                 time.perf_counter() - started))

    with path.open(encoding="utf-8", errors="strict") as stream:
        try:
            for row in parsed_rows(stream, fmt, lookup, cmap, result, seen):
                batch.append(row)
                if len(batch) >= chunk_size:
                    flush(stream)
        except UnicodeDecodeError:
            raise Invalid(f"{path.name} is not UTF-8 text.") from None
        if batch:
            flush(stream)
    if strict and result.errors:
        raise strict_refusal(path.name, result.errors)
    fold(pending)
    result.students = len(rolled)
    result.seconds = time.perf_counter() - started
    if on_progress:
        on_progress(Progress(result.accepted + result.duplicates + result.rejected, total, total, result.seconds))
    return result
