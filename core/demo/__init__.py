"""The demo cohort: a reproducible, realistic program run over the last ~90 days.

Each student is simulated day by day: a cohort start date, a weekday rhythm, an
engagement level and a drop-off day. On active days they read lessons in sequence,
start activities, submit workbooks (real .xlsx files in storage) that fail or pass
validation, get feedback, and capstone finishers land on the leaderboard. Progress
rows are derived from the same simulation, so every figure agrees with the events.

Rows go in with bulk inserts, so 200 students take a few seconds. Randomness comes
from `random.Random` seeded per student, so the same seed gives the same cohort.
Company packages are built afterwards by the real pipeline (core.packages) from
generated companyfacts (core.demo.companyfacts), one build per version.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core import auth, catalogue, companies, config
from core import storage as storage_mod
from core.db import session_scope, utcnow
from core.demo.cohort import Sim, Step, _sequence, _simulate
from core.demo.companyfacts import companyfacts_for, filed_through
from core.demo.files import fiscal_year_end_date, latest_filed_year
from core.demo.grades import seed_grades
from core.demo.packages import PACKAGE_VERSIONS, _packages
from core.demo.write import DemoSummary, _write
from core.errors import Forbidden
from core.models import Student

__all__ = [
    "PACKAGE_VERSIONS", "DemoSummary", "Sim", "Step", "companyfacts_for", "filed_through", "fiscal_year_end_date",
    "latest_filed_year", "seed_demo", "seed_demo_cli",
]


def seed_demo(
    engine: Engine, *, students: int = 200, seed: int = 7, storage=None, today: date | None = None,
    if_empty: bool = False,
) -> DemoSummary:
    """Generate the cohort into `engine`. No demo-mode check: `seed_demo_cli` does that.

    `today` anchors the 90-day window (default: today, UTC), so a fixed date and seed
    give identical rows. With `if_empty`, a database that already has students is left
    as it is (only the demo accounts are synced).
    """
    if students < 1:
        raise ValueError("students must be at least 1")
    store = storage or storage_mod.default_storage()
    today = today or utcnow().date()
    with session_scope(engine) as session:
        companies.seed_curated(session)
        catalogue.seed_catalogue(session)
        accounts = auth.sync_demo_accounts(session, demo=True)
        if if_empty and session.scalar(select(func.count()).select_from(Student)):
            return DemoSummary(0, 0, 0, 0, 0, 0, skipped=True, accounts=accounts)
    steps = _sequence()
    sims = [_simulate(i, seed, steps, today) for i in range(students)]
    with session_scope(engine) as session:
        summary = _write(session, sims, steps, seed, store, today)
    # After the cohort's transaction: each build takes its own write transaction.
    summary.packages = _packages(engine, store, today, seed)
    seed_grades(engine, seed=seed)  # issue 13: grades in every workflow state
    summary.accounts = accounts
    return summary


def seed_demo_cli(
    engine: Engine, students: int = 200, seed: int = 7, if_empty: bool = False, url: str = "http://localhost:8501",
) -> DemoSummary:
    """`ngi seed --demo`: only into the embedded SQLite database (demo mode)."""
    if not config.demo_mode():
        with session_scope(engine) as session:
            auth.sync_demo_accounts(session, demo=False)
        raise Forbidden(
            "Demo mode is off (DATABASE_URL is set or NGI_DEMO_MODE=0), so no demo cohort or demo "
            "accounts are created; the demo runs only on the embedded SQLite database."
        )
    summary = seed_demo(engine, students=students, seed=seed, if_empty=if_empty)
    if summary.skipped:
        print("demo: the database already has students; cohort left as it is")
    else:
        print(f"demo: {summary.students} students, {summary.submissions} submissions, {summary.events} events, "
              f"{summary.feedback} feedback, {summary.leaderboard} leaderboard entries, "
              f"{summary.packages} packages")
    print(f"demo staff accounts (sign in at {url}):")
    for email, password, role in summary.accounts:
        print(f"  {role:<13} {email:<24} password: {password}")
    return summary
