"""Benchmark: a warm rerun of the review and moderation pages at demo scale, through
AppTest (issue 13's goal: under 300 ms at 1,000 students).

Seeds a demo cohort into a fresh SQLite file, opens each page signed in as the demo
admin (review: the "Needs review" queue; moderation: the "held" queue), runs it once
cold, then times `--runs` warm reruns and prints the median and the worst.

    .venv/bin/python benchmarks/bench_review_page.py [--students 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select

from core import demo, schema
from core.db import make_engine, session_scope
from core.models import StaffUser
from core.storage import storage_for

GOAL_MS = 300


def _page(url: str, page: str, actor: StaffUser):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=600)
    at.session_state["ngi_actor_id"] = actor.id
    at.session_state["ngi_actor_role"] = actor.role
    return at


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        url = f"sqlite:///{folder / 'ngi.db'}"
        # The embedded default (NGI_DATA_DIR/ngi.db, demo mode on), so the demo admin may sign in.
        os.environ.pop("DATABASE_URL", None)
        os.environ.update(NGI_DATA_DIR=str(folder), NGI_JOBS_IN_PROCESS="0")
        engine = make_engine(url)
        schema.upgrade(engine)
        start = time.perf_counter()
        summary = demo.seed_demo(engine, students=args.students, seed=7, storage=storage_for(str(folder / "files")))
        print(f"demo seed: {summary.students} students, {summary.submissions} submissions "
              f"in {time.perf_counter() - start:.1f} s")
        with session_scope(engine) as session:
            admin = session.scalar(select(StaffUser).where(StaffUser.is_demo.is_(True), StaffUser.role == "admin"))
            session.expunge(admin)
        for page in ("review", "moderation"):
            at = _page(url, page, admin)
            start = time.perf_counter()
            at.run()
            cold = time.perf_counter() - start
            # (an st.error can be content: a flagged feedback's reason)
            if at.exception or not at.dataframe:
                raise SystemExit(f"{page} did not render its queue: {[e.value for e in (*at.exception, *at.error)]}")
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                at.run()
                times.append((time.perf_counter() - start) * 1000)
            median = statistics.median(times)
            verdict = "meets" if median < GOAL_MS else "misses"
            print(f"{page:>10}: cold {cold * 1000:,.0f} ms · warm rerun median {median:,.0f} ms, worst "
                  f"{max(times):,.0f} ms over {args.runs} runs ({verdict} the {GOAL_MS} ms goal)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
