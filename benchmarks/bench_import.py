"""Telemetry import throughput: the bulk path (core/telemetry_bulk.py) against today's
paths in the same run on the same file — `telemetry.import_events` (chunked insert,
then one rebuild of every touched student) and `record_event` per event (timed on a
sample, since at 1M events it would take hours) — on SQLite and PostgreSQL. Each figure
includes the rollup and progress being up to date at the end.

    .venv/bin/python -m benchmarks.bench_import [--events 1000000] [--engines sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks import cohort
from benchmarks.bench_analytics import database
from core import catalogue, companies, schema, telemetry, telemetry_bulk
from core.auth import system_actor
from core.db import make_engine, session_scope


def _fresh(url: str, students: int):
    engine = make_engine(url)
    schema.upgrade(engine)
    with session_scope(engine) as session:
        companies.seed_curated(session)
        catalogue.seed_catalogue(session)
        cohort.create_students(session, students)
    return engine


def _per_event(engine, path: Path, sample: int) -> float:
    """events/s of record_event over the first `sample` lines of the file."""
    rows = []
    with path.open() as lines:
        for line in lines:
            rows.append(json.loads(line))
            if len(rows) >= sample:
                break
    from datetime import datetime

    started = time.perf_counter()
    with session_scope(engine) as session:
        for row in rows:
            row["event_timestamp"] = datetime.fromisoformat(row["event_timestamp"])
            telemetry.record_event(session, **{k: v for k, v in row.items() if v is not None})
    return len(rows) / (time.perf_counter() - started)


def run(engine_name: str, path: Path, students: int, events: int, sample: int, workdir: Path,
        paths: tuple[str, ...] = ("bulk", "import_events")) -> dict:
    out: dict = {"engine": engine_name, "events": events}
    for label in paths:
        with database(engine_name, workdir) as url:
            engine = _fresh(url, students)
            started = time.perf_counter()
            if label == "bulk":
                result = telemetry_bulk.import_bulk(engine, path, actor=system_actor(engine))
            else:
                result = telemetry.import_events(engine, path, actor=system_actor(engine), batch_size=20000)
            seconds = time.perf_counter() - started
            out[f"{label}_s"] = round(seconds, 2)
            out[f"{label}_events_per_s"] = round(result.accepted / seconds)
            engine.dispose()
    with database(engine_name, workdir) as url:
        engine = _fresh(url, students)
        out["per_event_events_per_s"] = round(_per_event(engine, path, sample))
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--sample", type=int, default=2000, help="events timed through record_event")
    parser.add_argument("--paths", default="bulk,import_events", help="file paths to time (record_event always is)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ngi-bench-import-"))
    students = max(50, args.events // 400)
    path = workdir / "events.jsonl"
    written = cohort.write_events(path, list(range(1, students + 1)), events=args.events, days=180)
    print(f"{written:,} events, {students:,} students, load average {os.getloadavg()[0]:.1f}")
    for name in args.engines.split(","):
        r = run(name, path, students, written, args.sample, workdir, tuple(args.paths.split(",")))
        line = f"[{name}] bulk {r['bulk_events_per_s']:,} events/s ({r['bulk_s']} s) | record_event " \
               f"{r['per_event_events_per_s']:,} events/s | bulk/record_event " \
               f"{r['bulk_events_per_s'] / r['per_event_events_per_s']:.1f}x"
        if "import_events_s" in r:
            line += (f" | import_events {r['import_events_events_per_s']:,} events/s ({r['import_events_s']} s), "
                     f"bulk/import_events {r['bulk_events_per_s'] / r['import_events_events_per_s']:.2f}x")
        print(line + f" | load average {os.getloadavg()[0]:.1f}", flush=True)
        print(json.dumps(r))


if __name__ == "__main__":
    main()
