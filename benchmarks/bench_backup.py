"""Benchmark: time and size of a full and an incremental backup of the demo database
with many telemetry events (embedded SQLite: online backup API + restic; local files:
restic). The events are the cohort generator's (benchmarks/cohort.py), bulk-inserted.

    .venv/bin/python benchmarks/bench_backup.py [--events 1000000] [--students 20]

The incremental run follows a day's worth of change: 1% more events and one new file.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select

from benchmarks import cohort
from core.db import make_engine, session_scope
from core.models import LearningTelemetry, Student


def _load_events(engine, path: Path) -> int:
    rows, total = [], 0
    with open(path, encoding="utf-8") as fh, session_scope(engine) as session:
        for line in fh:
            row = json.loads(line)
            row["event_timestamp"] = datetime.fromisoformat(row["event_timestamp"])
            rows.append(row)
            if len(rows) == 20000:
                session.execute(insert(LearningTelemetry), rows)
                total, rows = total + len(rows), []
        if rows:
            session.execute(insert(LearningTelemetry), rows)
            total += len(rows)
    return total


def _mb(value: float) -> str:
    return f"{value / 1e6:,.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--students", type=int, default=20, help="demo cohort size (files, submissions)")
    parser.add_argument("--cohort", type=int, default=2000, help="students the generated events belong to")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    os.environ.update({"NGI_DATA_DIR": str(folder / "data"), "NGI_BACKUP_DIR": str(folder / "backups")})
    for name in ("DATABASE_URL", "NGI_STORAGE_URL", "NGI_RESTIC_REPOSITORY", "NGI_RESTIC_PASSWORD_FILE"):
        os.environ.pop(name, None)
    from core import backup, demo, schema
    from core.storage import default_storage

    try:
        db = folder / "data" / "ngi.db"
        engine = make_engine(f"sqlite:///{db}")
        schema.upgrade(engine)
        demo.seed_demo(engine, students=args.students, storage=default_storage())
        with session_scope(engine) as session:
            first = (session.scalar(select(func.max(Student.id))) or 0) + 1
            ids = cohort.create_students(session, args.cohort, first_id=first)
        events_file = folder / "events.jsonl"
        start = time.perf_counter()
        cohort.write_events(events_file, ids, events=args.events)
        loaded = _load_events(engine, events_file)
        print(f"demo database: {args.students} demo students + {len(ids)} cohort students, "
              f"{loaded:,} events loaded in {time.perf_counter() - start:.0f} s; database file {_mb(db.stat().st_size)}")

        for kind in ("full", "incremental"):
            if kind == "incremental":
                extra = folder / "extra.jsonl"
                cohort.write_events(extra, ids[:200], events=max(1, args.events // 100), seed=11)
                _load_events(engine, extra)
                default_storage().put("submissions/bench/new.xlsx", io.BytesIO(os.urandom(200_000)))
            before = backup.restic().size() if kind == "incremental" else 0
            cpu, start = time.process_time(), time.perf_counter()
            done = backup.run(engine, kind=kind)
            wall = time.perf_counter() - start
            children = os.times()
            added = {r.kind: r.size for r in done}
            print(f"{kind:>11} backup: {wall:6.1f} s wall ({time.process_time() - cpu:.1f} s CPU here, "
                  f"{children.children_user + children.children_system:.1f} s CPU in restic so far); "
                  f"new data: database {_mb(added.get(kind, 0))}, files {_mb(added.get('files', 0))} "
                  f"(before compression); repository grew {_mb(backup.restic().size() - before)}")
        print(f"restic repository: {_mb(backup.restic().size())} for a {_mb(db.stat().st_size)} database "
              f"(two snapshots, deduplicated and compressed)")
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the machine is shared)")
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
