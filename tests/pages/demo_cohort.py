"""A small demo cohort (40 students) seeded once per test module, on SQLite and on PostgreSQL.

Page tests take it as the `demo_db` fixture (tests/pages/conftest.py), module-scoped and
parametrized over ("sqlite", "postgres").
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from core import demo
from core.db import make_engine
from core.storage import storage_for
from tests.support import truncate_all

STUDENTS = 40
SEED = 3  # two companies reach 5 leaderboard entries, the rest stay below


@dataclass(frozen=True)
class DemoDB:
    url: str
    data_dir: Path  # NGI_DATA_DIR: the stored files live under data_dir / "files"
    today: date


def demo_database(request, tmp_path_factory) -> DemoDB:
    data_dir = tmp_path_factory.mktemp("demo")
    if request.param == "sqlite":
        path = data_dir / "ngi.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("_postgres_session_url")
    engine = make_engine(url)
    try:
        if request.param != "sqlite":
            truncate_all(engine)
        summary = demo.seed_demo(engine, students=STUDENTS, seed=SEED, storage=storage_for(str(data_dir / "files")))
        assert summary.leaderboard > 0, "the test cohort should have capstone finishers"
    finally:
        engine.dispose()
    from core.db import utcnow

    return DemoDB(url=url, data_dir=data_dir, today=utcnow().date())
