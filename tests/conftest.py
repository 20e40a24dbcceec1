"""Database fixtures: every `db_url` test runs on SQLite and on PostgreSQL.

SQLite: a file in tmp_path, copied from a migrated template. PostgreSQL: one fresh
database per test session (CREATE DATABASE from TEST_POSTGRES_URL), migrated to head
and truncated between tests. A missing server skips locally and fails with CI=true.
Demo cohorts (`demo_cohorts`) are seeded once per session and copied for each user.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from core import schema
from core.db import make_engine
from tests.support import DemoCohorts, fresh_postgres_database, truncate_all

ROOT = Path(__file__).resolve().parent.parent

# Aliases need a key, and DATABASE_URL runs refuse to invent one; servers and CLI
# subprocesses the tests start inherit this. tests/test_pseudonyms.py covers the default.
os.environ.setdefault("NGI_PSEUDONYM_KEY", "test-pseudonym-key")


@pytest.fixture(scope="session", autouse=True)
def _backup_dir(tmp_path_factory):
    """Erasure appends to the ledger file in NGI_BACKUP_DIR: keep it out of ./data."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NGI_BACKUP_DIR", str(tmp_path_factory.mktemp("backups")))
        yield


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_session_url():
    with fresh_postgres_database("ngi_test") as url:
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def demo_cohorts(tmp_path_factory, _sqlite_template) -> DemoCohorts:
    """Demo cohorts seeded once per session and handed out as copies (tests.support.DemoCohorts)."""
    cohorts = DemoCohorts(tmp_path_factory.mktemp("demo-cohorts"), _sqlite_template)
    yield cohorts
    cohorts.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path, _sqlite_template) -> str:
    """URL of a migrated, empty database; parametrized over both engines."""
    if request.param == "sqlite":
        path = tmp_path / "ngi.db"
        shutil.copy(_sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("_postgres_session_url")
    engine = make_engine(url)
    truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path, _sqlite_template) -> str:
    """A migrated, empty SQLite database only (for tests that need no PostgreSQL)."""
    path = tmp_path / "ngi.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def seeded_engine(engine):
    """Migrated database with the ten companies and the content catalogue."""
    from core import catalogue, companies
    from core.db import session_scope

    with session_scope(engine) as session:
        companies.seed_curated(session)
        catalogue.seed_catalogue(session)
    return engine


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """Point NGI_DATA_DIR (and so local storage) at a per-test folder."""
    monkeypatch.setenv("NGI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NGI_STORAGE_URL", raising=False)
    return tmp_path / "data"


@pytest.fixture
def race():
    """`race(n, fn)` runs fn(i) for i in 0..n-1 on n real threads released together by a
    barrier; returns (results, errors) in completion order. For races between writers."""
    import threading

    def run(n: int, fn):
        barrier = threading.Barrier(n)
        lock = threading.Lock()
        results, errors = [], []

        def worker(i):
            try:
                barrier.wait(timeout=60)
                value = fn(i)
            except BaseException as exc:  # noqa: BLE001 - handed back to the test
                with lock:
                    errors.append(exc)
            else:
                with lock:
                    results.append(value)

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        return results, errors

    return run
