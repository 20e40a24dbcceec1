"""Analytics at scale: import, rollup, every chart query and the analytics page, on
SQLite and PostgreSQL, against the naive baseline (all events into pandas, then group).

    .venv/bin/python -m benchmarks.bench_analytics                 # 1M events, both engines
    .venv/bin/python -m benchmarks.bench_analytics --big           # also 10M (slow: ~1 h)
    .venv/bin/python -m benchmarks.bench_analytics --engines sqlite --events 200000
    .venv/bin/python -m benchmarks.bench_analytics --events-file cohort.jsonl --lean   # a file written earlier

Prints timings and ratios; it asserts nothing (timing is not a test). Every chart has a
naive figure: the tables it needs read whole into pandas (events; submissions, feedback
and companies), then grouped; its time includes those loads. The last column says
whether that naive figure agrees with the chart function's result.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import select, text

from benchmarks import baselines, cohort
from core import analytics, catalogue, companies, config, progress, rollup, schema, telemetry, telemetry_bulk
from core.auth import system_actor
from core.db import make_engine, normalize_url, session_scope
from core.models import LearningTelemetry

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
    with engine.connect() as conn:
        return pd.read_sql("SELECT id, user_id, event_type, lesson, activity, time_spent_seconds, event_timestamp "
                           "FROM learning_telemetry", conn)


def naive_load_submissions(engine) -> dict[str, pd.DataFrame]:
    """The submission-side tables, whole, for the outcome and hotspot charts."""
    with engine.connect() as conn:
        return {
            "submissions": pd.read_sql("SELECT id, user_id, company_id, activity_id, validator_status, "
                                       "validator_errors FROM learning_submissions", conn),
            "feedback": pd.read_sql("SELECT submission_id, rubric_composite FROM learning_feedback", conn),
            "companies": pd.read_sql("SELECT id, ticker FROM learning_companies", conn),
        }


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


def _stamps(events: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(events["event_timestamp"], utc=True, format="mixed")


def _bucket(values: pd.Series, buckets) -> pd.Series:
    """Bucket labels as analytics' CASE does: the first bucket whose upper bound exceeds the value."""
    labels = pd.Series(buckets[-1][2], index=values.index, dtype=object)
    for _low, high, name in reversed(buckets[:-1]):
        labels[values < high] = name
    return labels


def naive_time_vs_outcomes(events: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    # Time invested: each event earns the gap to the student's next event (whole
    # seconds), capped at 30 min; the last event earns its own time_spent_seconds, capped.
    frame = pd.DataFrame({"user_id": events["user_id"], "id": events["id"],
                          "es": (_stamps(events) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1),
                          "spent": events["time_spent_seconds"].fillna(0)}).sort_values(["user_id", "es", "id"])
    gap = frame.groupby("user_id")["es"].shift(-1) - frame["es"]
    credit = gap.fillna(frame["spent"]).clip(lower=0, upper=rollup.CAP_SECONDS)
    minutes = (credit.groupby(frame["user_id"]).sum() // 60).rename("minutes")
    # Outcomes: validated submissions, each with the mean rubric of its feedback.
    subs = tables["submissions"]
    subs = subs[subs["validator_status"].isin(["passed", "failed"])]
    rubric = tables["feedback"].dropna(subset=["rubric_composite"]).groupby("submission_id")["rubric_composite"]
    subs = subs.assign(passed=subs["validator_status"].eq("passed").astype(int),
                       rubric=subs["id"].map(rubric.mean().astype(float)))
    per_student = subs.groupby("user_id").agg(pass_rate=("passed", "mean"), rubric_score=("rubric", "mean"))
    joined = per_student.join(minutes, how="inner")
    joined["time_invested"] = _bucket(joined["minutes"], analytics.TIME_BUCKETS)
    order = {name: n for n, (_, _, name) in enumerate(analytics.TIME_BUCKETS)}
    out = joined.groupby("time_invested").agg(students=("minutes", "size"), pass_rate=("pass_rate", "mean"),
                                              rubric_score=("rubric_score", "mean")).reset_index()
    return out.sort_values("time_invested", key=lambda s: s.map(order)).reset_index(drop=True)


def _student_days(events: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"user_id": events["user_id"], "day": _local_days(events)}).drop_duplicates()


def naive_streak_distribution(events: pd.DataFrame, on: date) -> pd.DataFrame:
    days = _student_days(events).sort_values(["user_id", "day"])
    new_run = days.groupby("user_id")["day"].diff().ne(pd.Timedelta(days=1))
    days["run"] = new_run.cumsum()
    runs = days.groupby(["user_id", "run"]).agg(length=("day", "size"), last=("day", "max")).reset_index()
    per_student = runs.groupby("user_id").agg(longest=("length", "max"), current=("length", "last"),
                                              last=("last", "max"))
    alive = per_student["last"] >= pd.Timestamp(on - timedelta(days=1))
    per_student["current"] = per_student["current"].where(alive, 0)
    buckets = [(lo, None if hi is None else hi + 1, n) for lo, hi, n in analytics.STREAK_BUCKETS]
    rows = []
    for kind in ("current", "longest"):
        counts = _bucket(per_student[kind], buckets).value_counts()
        rows += [(kind, name, int(counts.get(name, 0))) for _, _, name in analytics.STREAK_BUCKETS]
    return pd.DataFrame(rows, columns=["kind", "streak", "students"])


def _failed_checks(report) -> list[str]:
    """Failed check ids from validator_errors: a report ({checks: [{id, status}]}) or
    the flat findings list ([{check, ...}] for a failed submission)."""
    if isinstance(report, str):
        try:
            report = json.loads(report)
        except ValueError:
            return []
    if isinstance(report, dict):
        return [c.get("id") for c in report.get("checks") or [] if isinstance(c, dict)
                and c.get("status") == "failed" and c.get("id")]
    if isinstance(report, list):
        return [f.get("check") for f in report if isinstance(f, dict) and f.get("check")]
    return []


def naive_failure_hotspots(tables: dict[str, pd.DataFrame], limit: int = 50) -> pd.DataFrame:
    subs = tables["submissions"].dropna(subset=["validator_errors"]).copy()
    subs["check_id"] = subs["validator_errors"].map(_failed_checks)
    flat = subs[["id", "user_id", "company_id", "activity_id", "validator_status", "check_id"]].explode("check_id")
    flat = flat.dropna(subset=["check_id"])
    # The flat findings list only counts for a failed submission (one row per finding).
    is_list = subs.set_index("id")["validator_errors"].map(
        lambda v: isinstance(v, list) or (isinstance(v, str) and v.lstrip().startswith("[")))
    flat = flat[~flat["id"].map(is_list) | flat["validator_status"].eq("failed")]
    flat = flat.drop_duplicates(["id", "check_id"])
    flat["company"] = flat["company_id"].map(tables["companies"].set_index("id")["ticker"])
    flat = flat.dropna(subset=["company"]).rename(columns={"activity_id": "activity"})
    out = flat.groupby(["check_id", "activity", "company"]).agg(failures=("id", "size"),
                                                                students=("user_id", "nunique")).reset_index()
    out = out.sort_values(["failures", "check_id", "activity", "company"], ascending=[False, True, True, True])
    return out.head(limit).reset_index(drop=True)


def naive_at_risk(events: pd.DataFrame, cmap, on: date) -> pd.DataFrame:
    """Students whose last event day is 7+ days back and who have not finished: neither
    every published activity completed (validator_pass / activity_complete) nor the
    capstone submitted."""
    days = _student_days(events)
    last = days.groupby("user_id")["day"].max()
    act = events["activity"].fillna(events["lesson"].map(cmap.lesson_activity))
    done = pd.DataFrame({"user_id": events["user_id"], "act": act})[
        events["event_type"].isin(rollup.COMPLETION_TYPES) & act.isin(cmap.activities)].drop_duplicates()
    completed = done.groupby("user_id").size()
    capstone = events.loc[events["event_type"].eq("submission") & act.eq("capstone"), "user_id"].unique()
    finished = set(completed[completed >= len(cmap.activities)].index) | set(capstone)
    silent = last[last <= pd.Timestamp(on - timedelta(days=analytics.AT_RISK_DAYS))]
    out = silent[~silent.index.isin(finished)].rename("last_activity_date").reset_index()
    return out.sort_values(["last_activity_date", "user_id"]).reset_index(drop=True)


def agreement(chart: str, rolled: pd.DataFrame, naive: pd.DataFrame) -> str:
    """Whether the naive figure matches the rollup function's, in a few words."""
    if chart == "time_vs_outcomes":
        a = rolled.set_index("time_invested")
        b = naive.set_index("time_invested")
        same = a.index.equals(b.index) and a["students"].equals(b["students"].astype(int)) and \
            (a["pass_rate"] - b["pass_rate"]).abs().max() < 1e-3 and \
            ((a["rubric_score"] - b["rubric_score"]).abs().fillna(0).max() < 0.01)
        return "agrees" if same else f"differs: students rollup {a['students'].tolist()} naive {b['students'].tolist()}"
    if chart == "streak_distribution":
        same = rolled["students"].tolist() == naive["students"].tolist()
        return "agrees" if same else f"differs in {int((rolled['students'] != naive['students']).sum())} buckets"
    if chart == "failure_hotspots":
        key = ["check_id", "activity", "company"]
        a = rolled.set_index(key)[["failures", "students"]].sort_index()
        b = naive.set_index(key)[["failures", "students"]].sort_index()
        # Ties at the LIMIT edge may pick different rows; compare the counts column-wise.
        if a.equals(b):
            return "agrees"
        if a["failures"].sort_values().tolist() == b["failures"].sort_values().tolist():
            return "agrees up to ties at the LIMIT"
        return f"differs: {len(a.index.symmetric_difference(b.index))} groups"
    if chart == "at_risk":
        if "user_id" in rolled:
            a, b = set(rolled["user_id"]), set(naive["user_id"])
            return "agrees" if a == b else f"differs: {len(a - b)} only in rollup, {len(b - a)} only naive"
        return "agrees (count)" if len(rolled) == len(naive) else f"differs: {len(rolled)} vs {len(naive)} students"
    return ""


# --- the page -----------------------------------------------------------------------


def page_seconds(url: str, repeat: int) -> tuple[float, float]:
    """Cold (caches cleared) and warm AppTest runs of pages/analytics.py as an admin."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core import auth
    from core.models import StaffUser

    os.environ["DATABASE_URL"] = url
    engine = make_engine(url)
    system = system_actor(engine)
    with session_scope(engine) as session:
        user = session.query(StaffUser).filter_by(email="bench@ngi.local").one_or_none()
        user = user or auth.add_staff(session, actor=system, email="bench@ngi.local", role="admin", display_name="Bench",
                                      password="correct horse battery")
        actor_id = user.id
    engine.dispose()
    cold, warm, change, change_warm = [], [], [], []
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
        # A filter change: the first time for that filter (its queries run), then back
        # and forth once more with both in the cache.
        options = at.selectbox(key="an_cohort").options
        other = options[1] if len(options) > 1 else options[0]
        change.append(timed(at.selectbox(key="an_cohort").select(other).run)[0])
        at.selectbox(key="an_cohort").select(options[0]).run()
        change_warm.append(timed(at.selectbox(key="an_cohort").select(other).run)[0])
    return (statistics.median(cold), statistics.median(warm), statistics.median(change),
            statistics.median(change_warm))


# --- one engine ---------------------------------------------------------------------


def run_engine(name: str, events_file: Path, student_ids: list[int], workdir: Path, repeat: int,
               lean: bool = False) -> dict:
    """Every figure for one engine; `lean` leaves out the full rebuilds and the naive
    pandas figures (at 10M events they take longer than everything else together)."""
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
            out["import_s"], result = timed(telemetry_bulk.import_bulk, session, events_file, actor=system_actor(engine))
        out["events"] = result.accepted
        if not lean:
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
        rolled: dict[str, pd.DataFrame] = {}
        system = system_actor(engine)
        for chart in CHARTS:
            def query(chart=chart):
                with session_scope(engine) as session:
                    return getattr(analytics, chart)(session, actor=system)
            rolled[chart] = query()  # warms the pool and page cache; kept to check the naive figure
            out[f"q_{chart}_ms"] = median_ms(query, repeat)
        for chart in RAW:
            def raw(chart=chart):
                with session_scope(engine) as session:
                    return getattr(baselines, f"raw_{chart}")(session)
            out[f"raw_{chart}_ms"] = median_ms(raw, max(1, repeat // 2))
        if lean:
            out.update(duckdb_baseline(engine, repeat))
            out["page_cold_s"], out["page_warm_s"], out["page_filter_s"], out["page_filter_warm_s"] = page_seconds(
                url, max(1, repeat // 2))
            engine.dispose()
            return out
        # The naive way: every event into pandas, then group.
        gc.collect()
        out["naive_load_ms"], frame = timed(naive_load, engine)
        out["naive_load_ms"] *= 1000
        with session_scope(engine) as session:
            cmap = rollup.content_map(session)
        out["naive_active_students_ms"] = median_ms(lambda: naive_active(frame), 3)
        out["naive_funnel_ms"] = median_ms(lambda: naive_funnel(frame, cmap), 3)
        out["naive_retention_ms"] = median_ms(lambda: naive_retention(frame), 3)
        today = progress.today()
        # Submissions, feedback and companies: their load time counts toward the charts that read them.
        load_s, tables = timed(naive_load_submissions, engine)
        out["naive_submissions_load_ms"] = load_s * 1000
        naive_figures = {
            "time_vs_outcomes": (lambda: naive_time_vs_outcomes(frame, tables), ["events", "submissions"]),
            "streak_distribution": (lambda: naive_streak_distribution(frame, today), ["events"]),
            "failure_hotspots": (lambda: naive_failure_hotspots(tables), ["submissions"]),
            "at_risk": (lambda: naive_at_risk(frame, cmap, today), ["events"]),
        }
        loads = {"events": out["naive_load_ms"], "submissions": out["naive_submissions_load_ms"]}
        for chart, (fn, reads) in naive_figures.items():
            out[f"naive_{chart}_ms"] = median_ms(fn, 3)
            out[f"naive_{chart}_load_ms"] = sum(loads[r] for r in reads)
            try:
                out[f"agree_{chart}"] = agreement(chart, rolled[chart], fn())
            except Exception as exc:  # noqa: BLE001 - a comparison bug must not cost the timings
                out[f"agree_{chart}"] = f"not compared ({type(exc).__name__}: {exc})"
        for chart in RAW:
            out[f"agree_{chart}"] = ""
        out["naive_memory_mb"] = frame.memory_usage(deep=True).sum() / 2**20
        frame = tables = None  # free the frames before the page timing; the naive figures are done
        gc.collect()
        out.update(duckdb_baseline(engine, repeat))
        out["page_cold_s"], out["page_warm_s"], out["page_filter_s"], out["page_filter_warm_s"] = page_seconds(
            url, max(1, repeat // 2))
        engine.dispose()
    return out


def duckdb_baseline(engine, repeat: int) -> dict:
    """The fair peer: DuckDB over the same events. DuckDB's sqlite/postgres scanners are
    extensions it downloads, impossible here, so the rows are read from the same database
    in this process and handed to DuckDB through its Python API (the load is timed apart)."""
    import duckdb

    events = LearningTelemetry.__table__
    started = time.perf_counter()
    with engine.connect() as conn:
        result = conn.execute(select(events.c.user_id, events.c.event_timestamp))
        frame = pd.DataFrame(result.fetchall(), columns=["user_id", "ts"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    db = duckdb.connect()
    db.register("frame", frame)
    db.execute("CREATE TABLE ev AS SELECT user_id, ts FROM frame")
    db.unregister("frame")
    load_ms = (time.perf_counter() - started) * 1000
    zone = config.program_timezone().key
    active_sql = f"""
        WITH days AS (SELECT DISTINCT user_id, CAST(timezone('{zone}', ts) AS DATE) AS d FROM ev),
        cal AS (SELECT CAST(g AS DATE) AS day FROM generate_series(
            (SELECT min(d) FROM days), (SELECT max(d) FROM days), INTERVAL 1 DAY) t(g))
        SELECT cal.day,
               count(DISTINCT CASE WHEN days.d = cal.day THEN days.user_id END) AS dau,
               count(DISTINCT CASE WHEN days.d > cal.day - 7 THEN days.user_id END) AS wau,
               count(DISTINCT days.user_id) AS mau
        FROM cal JOIN days ON days.d > cal.day - 28 AND days.d <= cal.day
        GROUP BY cal.day ORDER BY cal.day"""
    retention_sql = f"""
        WITH w AS (SELECT DISTINCT user_id, date_trunc('week', CAST(timezone('{zone}', ts) AS DATE)) AS wk FROM ev),
        c AS (SELECT user_id, min(wk) AS cohort FROM w GROUP BY user_id)
        SELECT c.cohort, w.wk, count(*) FROM w JOIN c USING (user_id) GROUP BY c.cohort, w.wk"""
    out = {"duckdb_load_ms": load_ms}
    out["duckdb_active_students_ms"] = median_ms(lambda: db.execute(active_sql).fetchall(), repeat)
    out["duckdb_retention_ms"] = median_ms(lambda: db.execute(retention_sql).fetchall(), repeat)
    db.close()
    return out


def report(results: list[dict]) -> None:
    for r in results:
        print(f"\n== {r['engine']}: {r['events']:,} events, {r['daily_rows']:,} rollup rows, "
              f"{r['submissions']:,} submissions")
        print(f"import (incl. rollup + progress of touched students): {r['import_s']:.1f} s "
              f"({r['events'] / r['import_s']:,.0f} events/s)")
        if "rollup_s" in r:
            print(f"rollup rebuild: {r['rollup_s']:.1f} s; rollup + progress rebuild: {r['rollup_progress_s']:.1f} s")
        print(f"{'chart':<22}{'rollup ms':>11}{'raw SQL ms':>12}{'naive ms':>11}{'naive/rollup':>14}{'raw/rollup':>12}"
              f"  naive figure vs rollup")
        for chart in CHARTS:
            fast = r[f"q_{chart}_ms"]
            raw = r.get(f"raw_{chart}_ms")
            naive = r.get(f"naive_{chart}_ms")
            naive_total = (naive + r.get(f"naive_{chart}_load_ms", r["naive_load_ms"]) if naive is not None
                           else float("nan"))
            # benchmarks/baselines.py has no raw_* query for the outcome, streak, hotspot and at-risk charts: "n/a".
            print(f"{chart:<22}{fast:>11.1f}{f'{raw:.1f}' if raw is not None else 'n/a':>12}"
                  f"{naive_total:>11.1f}{naive_total / fast:>13.1f}x"
                  f"{f'{raw / fast:.1f}x' if raw else 'n/a':>12}  {r.get(f'agree_{chart}', '')}")
        if "naive_load_ms" in r:
            print(f"naive: loading all events took {r['naive_load_ms']:.0f} ms and {r['naive_memory_mb']:.0f} MB, "
                  f"submissions + feedback + companies {r['naive_submissions_load_ms']:.0f} ms; naive ms = load of "
                  f"the tables a chart reads + its group-by (group-by alone: "
                  + ", ".join(f"{c} {r[f'naive_{c}_ms']:.0f} ms" for c in CHARTS) + ")")
        slowest = max(r[f"q_{c}_ms"] for c in CHARTS)
        print(f"slowest chart query {slowest:.1f} ms (target < 100 ms); page AppTest first load {r['page_cold_s']:.2f} s"
              f" (target < 1 s), warm rerun {r['page_warm_s'] * 1000:.0f} ms, filter change "
              f"{r['page_filter_s'] * 1000:.0f} ms first time, {r['page_filter_warm_s'] * 1000:.0f} ms warm "
              f"(target < 300 ms)")
        print(f"DuckDB (rows loaded via its Python API from the same database in this process, the scanner "
              f"extensions need a download): load {r['duckdb_load_ms']:.0f} ms; active students "
              f"{r['duckdb_active_students_ms']:.1f} ms vs rollup {r['q_active_students_ms']:.1f} ms; retention "
              f"{r['duckdb_retention_ms']:.1f} ms vs rollup {r['q_retention_ms']:.1f} ms")


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
    parser.add_argument("--events-file", default=None,
                        help="an events file written earlier for --students (e.g. by benchmarks.cohort), used as is")
    parser.add_argument("--lean", action="store_true",
                        help="leave out the full rebuilds and the naive pandas figures (for 10M events)")
    args = parser.parse_args()
    sizes = [args.events] + ([10_000_000] if args.big else [])
    ids = list(range(1, args.students + 1))
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(tmp)
        for size in sizes:
            if args.events_file:
                path = Path(args.events_file)
            else:
                path = workdir / f"cohort-{size}.jsonl"
                seconds, written = timed(cohort.write_events, path, ids, events=size, days=args.days, end=END,
                                         company_ids=list(range(1, 11)))
                print(f"generated {written:,} events for {len(ids):,} students over {args.days} days in "
                      f"{seconds:.0f} s", file=sys.stderr)
            results = [run_engine(name, path, ids, workdir, args.repeat, lean=args.lean)
                       for name in args.engines.split(",")]
            report(results)
            print(json.dumps(results, default=str))
            if not args.events_file:
                path.unlink()


if __name__ == "__main__":
    main()
