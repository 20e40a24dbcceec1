"""Benchmark: `ngi seed --demo` for a 200-student cohort, and why it inserts in bulk.

Times the whole demo seed into a fresh SQLite file (simulation, real model workbooks
judged by the validators, storage, inserts, rollup rebuild and progress), then compares
two ways of reaching the same end state for the same telemetry rows, in the same
process: one executemany insert followed by one rollup + progress rebuild (what
core/demo/write.py does) against `record_event` per event, which stores the event and folds
it into the rollup and the student's progress (the live-ingest path).

    .venv/bin/python benchmarks/bench_demo_seed.py [--students 200] [--events 5000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select

from core import demo, schema
from core.db import make_engine, session_scope
from core.models import LearningTelemetry
from core.storage import storage_for
from core.telemetry import record_event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    try:
        engine = make_engine(f"sqlite:///{folder / 'ngi.db'}")
        schema.upgrade(engine)
        start = time.perf_counter()
        summary = demo.seed_demo(engine, students=args.students, seed=7, storage=storage_for(str(folder / "files")))
        seeded = time.perf_counter() - start
        print(f"demo seed: {summary.students} students, {summary.submissions} submissions, "
              f"{summary.events} events in {seeded:.2f} s")

        with session_scope(engine) as session:
            columns = [c.key for c in LearningTelemetry.__table__.columns if c.key != "id"]
            rows = [dict(zip(columns, r)) for r in session.execute(
                select(*[LearningTelemetry.__table__.c[c] for c in columns]).limit(args.events))]
        for label, write in (("bulk + rebuild", _bulk), ("per-event", _naive)):
            target = make_engine(f"sqlite:///{folder / f'{label[:4]}.db'}")
            shutil.copy(folder / "ngi.db", folder / f"{label[:4]}.db")
            start = time.perf_counter()
            with session_scope(target) as session:
                write(session, rows)
            elapsed = time.perf_counter() - start
            print(f"{label:>14}: {len(rows)} events in {elapsed:.3f} s ({len(rows) / elapsed:,.0f} events/s)")
            if label == "bulk + rebuild":
                bulk = elapsed
            else:
                print(f"bulk insert + one rebuild is {elapsed / bulk:.1f}x faster than record_event per event")
            target.dispose()
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _bulk(session, rows) -> None:
    from core import progress

    session.execute(insert(LearningTelemetry), rows)
    progress.recompute(session)


def _naive(session, rows) -> None:
    for row in rows:
        record_event(session, **{k: v for k, v in row.items() if k in _FIELDS})


_FIELDS = {"user_id", "event_type", "event_category", "module", "unit", "lesson", "activity", "company_id",
           "submission_id", "event_data", "session_id", "time_spent_seconds", "user_agent", "ip_address",
           "event_timestamp"}


if __name__ == "__main__":
    main()
