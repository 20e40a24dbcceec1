"""Analytics at scale: import, rollup, every chart query and the analytics page, on
SQLite and PostgreSQL, against the naive baseline (all events into pandas, then group).

    .venv/bin/python -m benchmarks.bench_analytics                 # 1M events, both engines
    .venv/bin/python -m benchmarks.bench_analytics --big           # also 10M (slow: ~1 h)
    .venv/bin/python -m benchmarks.bench_analytics --engines sqlite --events 200000

Prints timings and ratios; it asserts nothing (timing is not a test).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from benchmarks import cohort
from core import analytics, catalogue, companies, config, rollup, schema, telemetry
from core.access import SYSTEM
from core.db import make_engine, normalize_url, session_scope

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ["active_students", "funnel", "retention", "time_vs_outcomes", "streak_distribution",
          "failure_hotspots", "at_risk"]
RAW = ["active_students", "funnel", "retention"]
PG_ADMIN = os.environ.get("TEST_POSTGRES_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def median_ms(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        samples.append(timed(fn)[0] * 1000)
    return statistics.median(samples)


@contextmanager
def database(engine_name: str, workdir: Path):
    if engine_name == "sqlite":
        yield f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        return
    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"ngi_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield normalize_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# --- the naive baseline -------------------------------------------------------------


def naive_load(engine) -> pd.DataFrame:
    return pd.read_sql("SELECT id, user_id, event_type, lesson, activity, event_timestamp FROM learning_telemetry",
                       engine.connect())


def _local_days(events: pd.DataFrame) -> pd.Series:
    stamps = pd.to_datetime(events["event_timestamp"], utc=True, format="mixed")
    return stamps.dt.tz_convert(config.program_timezone().key).dt.tz_localize(None).dt.normalize()


def naive_active(events: pd.DataFrame) -> pd.DataFrame:
    pairs = pd.DataFrame({"user_id": events["user_id"], "day": _local_days(events)}).drop_duplicates()
    pairs["week"] = pairs["day"] - pd.to_timedelta(pairs["day"].dt.day_of_week, unit="D")
    pairs["month"] = pairs["day"].dt.to_period("M")
    return pd.concat([
        pairs.groupby("day")["user_id"].nunique(), pairs.groupby("week")["user_id"].nunique(),
        pairs.groupby("month").agg(mau=("user_id", "nunique"), dau=("day", "size"), days=("day", "nunique")),
    ], axis=1)


def naive_funnel(events: pd.DataFrame, cmap) -> pd.DataFrame:
    frame = events[events["event_type"].isin(rollup.FUNNEL_STEPS)].copy()
    frame["act"] = frame["activity"].fillna(frame["lesson"].map(cmap.lesson_activity))
    frame = frame.dropna(subset=["act"])
    frame["ts"] = pd.to_datetime(frame["event_timestamp"], utc=True, format="mixed")
    reached = frame[frame["event_type"] == "lesson_view"].groupby(["user_id", "act"])["ts"].min().rename("t")
    counts = {"lesson_view": reached.groupby("act").size()}
    for step in rollup.FUNNEL_STEPS[1:]:
        candidates = frame[frame["event_type"] == step].join(reached, on=["user_id", "act"], how="inner")
        reached = candidates[candidates["ts"] >= candidates["t"]].groupby(["user_id", "act"])["ts"].min().rename("t")
        counts[step] = reached.groupby("act").size()
    return pd.DataFrame(counts)


def naive_retention(events: pd.DataFrame) -> pd.DataFrame:
    days = _local_days(events)
    pairs = pd.DataFrame({"user_id": events["user_id"], "week": days - pd.to_timedelta(days.dt.day_of_week, unit="D")})
    pairs = pairs.drop_duplicates()
    pairs["cohort"] = pairs.groupby("user_id")["week"].transform("min")
    return pairs.groupby(["cohort", "week"])["user_id"].nunique()


# --- the page -----------------------------------------------------------------------


def page_seconds(url: str, repeat: int) -> tuple[float, float]:
    """Cold (caches cleared) and warm AppTest runs of pages/analytics.py as an admin."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core import auth
    from core.models import StaffUser

    os.environ["DATABASE_URL"] = url
    engine = make_engine(url)
    with session_scope(engine) as session:
        user = session.query(StaffUser).filter_by(email="bench@ngi.local").one_or_none()
        user = user or auth.add_staff(session, email="bench@ngi.local", role="admin", display_name="Bench",
                                      password="correct horse battery")
        actor_id = user.id
    engine.dispose()
    cold, warm = [], []
    for _ in range(repeat):
        st.cache_resource.clear()
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "pages" / "analytics.py"), default_timeout=120)
        at.session_state["ngi_actor_id"] = actor_id
        at.session_state["ngi_actor_role"] = "admin"
        cold.append(timed(at.run)[0])
        if at.exception:
            raise RuntimeError(f"the page raised: {at.exception}")
        warm.append(timed(at.run)[0])
    return statistics.median(cold), statistics.median(warm)


# --- one engine ---------------------------------------------------------------------


def run_engine(name: str, events_file: Path, student_ids: list[int], workdir: Path, repeat: int) -> dict:
    out: dict = {"engine": name}
    with database(name, workdir) as url:
        engine = make_engine(url)
        schema.upgrade(engine)
        with session_scope(engine) as session:
            companies.seed_curated(session)
            catalogue.seed_catalogue(session)
            cohort.create_students(session, len(student_ids))
            out["submissions"] = cohort.create_submissions(session, student_ids, cohort.company_ids(session),
                                                           end=END)
        print(f"[{name}] importing {events_file.name} ...", file=sys.stderr)
        with session_scope(engine) as session:
            out["import_s"], result = timed(telemetry.import_events, session, events_file, batch_size=20000)
        out["events"] = result.accepted
        with session_scope(engine) as session:
            out["rollup_s"], _ = timed(rollup.rebuild, session)
        with session_scope(engine) as session:
            out["rollup_progress_s"], _ = timed(telemetry.rebuild_rollup, session)
        rollup.analyze(engine)  # what `ngi telemetry import` does after committing
        if name == "postgres":
            # Steady state: autovacuum would have set the visibility map by now, which
            # index-only scans need; do it explicitly rather than wait.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM learning_telemetry_daily")
        with session_scope(engine) as session:
            out["daily_rows"] = session.execute(text("SELECT COUNT(*) FROM learning_telemetry_daily")).scalar()
        for chart in CHARTS:
            def query(chart=chart):
                with session_scope(engine) as session:
                    return getattr(analytics, chart)(session, SYSTEM)
            query()  # warm the connection pool and the page cache of the database
            out[f"q_{chart}_ms"] = median_ms(query, repeat)
        for chart in RAW:
            def raw(chart=chart):
                with session_scope(engine) as session:
                    return getattr(analytics, f"raw_{chart}")(session)
            out[f"raw_{chart}_ms"] = median_ms(raw, max(1, repeat // 2))
        # The naive way: every event into pandas, then group.
        gc.collect()
        out["naive_load_ms"], frame = timed(naive_load, engine)
        out["naive_load_ms"] *= 1000
        with session_scope(engine) as session:
            cmap = rollup.content_map(session)
        out["naive_active_students_ms"] = median_ms(lambda: naive_active(frame), 3)
        out["naive_funnel_ms"] = median_ms(lambda: naive_funnel(frame, cmap), 3)
        out["naive_retention_ms"] = median_ms(lambda: naive_retention(frame), 3)
        out["naive_memory_mb"] = frame.memory_usage(deep=True).sum() / 2**20
        del frame
        gc.collect()
        out["page_cold_s"], out["page_warm_s"] = page_seconds(url, max(1, repeat // 2))
        engine.dispose()
    return out


def report(results: list[dict]) -> None:
    for r in results:
        print(f"\n== {r['engine']}: {r['events']:,} events, {r['daily_rows']:,} rollup rows, "
              f"{r['submissions']:,} submissions")
        print(f"import (incl. rollup + progress of touched students): {r['import_s']:.1f} s "
              f"({r['events'] / r['import_s']:,.0f} events/s)")
        print(f"rollup rebuild: {r['rollup_s']:.1f} s; rollup + progress rebuild: {r['rollup_progress_s']:.1f} s")
        print(f"{'chart':<22}{'rollup ms':>11}{'raw SQL ms':>12}{'naive ms':>11}{'naive/rollup':>14}{'raw/rollup':>12}")
        for chart in CHARTS:
            fast = r[f"q_{chart}_ms"]
            raw = r.get(f"raw_{chart}_ms")
            naive = r.get(f"naive_{chart}_ms")
            naive_total = naive + r["naive_load_ms"] if naive is not None else None
            print(f"{chart:<22}{fast:>11.1f}{raw if raw is not None else float('nan'):>12.1f}"
                  f"{naive_total if naive_total is not None else float('nan'):>11.1f}"
                  f"{(naive_total / fast) if naive_total else float('nan'):>13.1f}x"
                  f"{(raw / fast) if raw else float('nan'):>11.1f}x")
        print(f"naive: loading all events took {r['naive_load_ms']:.0f} ms and {r['naive_memory_mb']:.0f} MB "
              f"(group-by alone: active {r['naive_active_students_ms']:.0f} ms, funnel {r['naive_funnel_ms']:.0f} ms,"
              f" retention {r['naive_retention_ms']:.0f} ms)")
        slowest = max(r[f"q_{c}_ms"] for c in CHARTS)
        print(f"slowest chart query {slowest:.1f} ms (target < 100 ms); page AppTest cold {r['page_cold_s']:.2f} s, "
              f"warm {r['page_warm_s']:.2f} s (target < 1 s)")


END = date.today()


def main() -> None:
    parser = argparse.ArgumentParser(description="analytics benchmark")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--big", action="store_true", help="also run 10M events (takes long)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workdir", default=None, help="where the JSONL and SQLite files go (default: a temp dir)")
    args = parser.parse_args()
    sizes = [args.events] + ([10_000_000] if args.big else [])
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        for size in sizes:
            ids = list(range(1, args.students + 1))
            path = workdir / f"cohort-{size}.jsonl"
            seconds, written = timed(cohort.write_events, path, ids, events=size, days=args.days, end=END,
                                     company_ids=list(range(1, 11)))
            print(f"generated {written:,} events for {len(ids):,} students over {args.days} days in {seconds:.0f} s",
                  file=sys.stderr)
            results = [run_engine(name, path, ids, workdir, args.repeat) for name in args.engines.split(",")]
            report(results)
            path.unlink()


if __name__ == "__main__":
    main()
