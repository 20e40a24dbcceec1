"""A small demo cohort (40 students) for each test module, on SQLite and on PostgreSQL.

Page tests take it as the `demo_db` fixture (tests/pages/conftest.py), module-scoped and
parametrized over ("sqlite", "postgres"). The cohort is seeded once per session
(tests.support.DemoCohorts) and each module gets its own copy, so a module's writes stay
in that module.
"""

from __future__ import annotations

from tests.support import DEMO_SEED as SEED
from tests.support import DEMO_STUDENTS as STUDENTS
from tests.support import DemoDB

__all__ = ["SEED", "STUDENTS", "DemoDB", "demo_database"]


def demo_database(request, tmp_path_factory) -> DemoDB:
    """A copy of the demo cohort for a module-scoped fixture parametrized by engine."""
    cohorts = request.getfixturevalue("demo_cohorts")
    copy = cohorts.copy(request.param, tmp_path_factory.mktemp("demo"), students=STUDENTS, seed=SEED)
    summary = cohorts.summaries[(request.param, STUDENTS, SEED, None)]
    assert summary.leaderboard > 0, "the test cohort should have capstone finishers"
    return copy
