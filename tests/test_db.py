"""Engine plumbing: URL normalisation, SQLite pragmas, session scope, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core import config
from core.db import make_engine, normalize_url, session_scope
from core.errors import Unavailable
from core.models import LearningCompany


@pytest.mark.parametrize("url", ["postgres://u:p@db.example:5433/ngi", "postgresql://u:p@db.example:5433/ngi"])
def test_postgres_urls_use_psycopg3(url):
    normalized = normalize_url(url)
    assert normalized.drivername == "postgresql+psycopg"
    assert (normalized.host, normalized.port, normalized.database) == ("db.example", 5433, "ngi")


def test_default_url_is_sqlite_under_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("NGI_DATA_DIR", str(tmp_path / "d"))
    assert config.database_url() == f"sqlite:///{tmp_path / 'd' / 'ngi.db'}"
    assert config.demo_mode() is True
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@h/db")
    assert config.database_url() == "postgresql://x@h/db"
    assert config.demo_mode() is False
    monkeypatch.setenv("NGI_DEMO_MODE", "1")  # cannot force demo accounts onto a real database
    assert config.demo_mode() is False


def test_sqlite_application_connections_enforce_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    migration = make_engine(f"sqlite:///{tmp_path / 'x.db'}", foreign_keys=False)
    with migration.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0


def test_session_scope_rolls_back_on_error(engine):
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(LearningCompany(ticker="ZZZ", company_name="Half written"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(engine) as session:
        assert session.scalar(select(LearningCompany)) is None


def test_timestamps_are_timezone_aware_utc(engine):
    eastern = timezone(timedelta(hours=-5))
    with session_scope(engine) as session:
        session.add(LearningCompany(ticker="UTC", company_name="Clock Co",
                                    created_at=datetime(2025, 3, 1, 7, 0, tzinfo=eastern)))
    with session_scope(engine) as session:
        stored = session.scalar(select(LearningCompany.created_at))
    assert stored.tzinfo is not None
    assert stored == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_naive_timestamps_are_refused(engine):
    with pytest.raises(Exception, match="timezone-aware"), session_scope(engine) as session:
        session.add(LearningCompany(ticker="NAV", company_name="Naive", created_at=datetime(2025, 1, 1)))
        session.flush()


def test_unreachable_database_is_one_line_naming_the_host():
    from core.db import check_connection

    engine = make_engine("postgresql://postgres:wrong@127.0.0.1:1/ngi", connect_args={"connect_timeout": 2})
    with pytest.raises(Unavailable) as info:
        check_connection(engine)
    message = str(info.value)
    assert "127.0.0.1:1" in message and "\n" not in message and "wrong" not in message


def test_a_write_waits_for_another_writer_instead_of_failing(engine, race):
    """Every session_scope takes the write lock first (BEGIN IMMEDIATE on SQLite), so
    writers that read then write queue up; deferred ones failed with 'database is locked'
    at once. Twenty read-then-write transactions all land."""
    import time

    from core.db import session_scope
    from core.models import Student

    with session_scope(engine) as s:
        s.add(Student(id=1, email="ana@school.edu", full_name="Ana", cohort="0"))

    def bump(_i):
        with session_scope(engine) as s:
            student = s.get(Student, 1, with_for_update=True)
            count = int(student.cohort)
            time.sleep(0.01)  # widen the window between the read and the write
            student.cohort = str(count + 1)

    _results, errors = race(20, bump)
    assert errors == []
    with session_scope(engine) as s:
        assert s.get(Student, 1).cohort == "20"


def test_read_scope_refuses_a_write_on_sqlite(sqlite_url):
    from sqlalchemy.exc import OperationalError

    from core.db import make_engine, read_scope
    from core.models import Student

    engine = make_engine(sqlite_url)
    with pytest.raises(OperationalError, match="readonly"), read_scope(engine) as s:
        s.add(Student(id=1, email="ana@school.edu"))
        s.flush()
    with session_scope(engine) as s:  # the same pooled connection writes again afterwards
        s.add(Student(id=1, email="ana@school.edu"))
    engine.dispose()


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_retrying_runs_a_deadlocked_unit_again_a_bounded_number_of_times():
    from sqlalchemy.exc import DBAPIError, OperationalError

    from core.db import RETRY_ATTEMPTS, retrying

    calls = []

    def deadlocks_twice():
        calls.append(1)
        if len(calls) < 3:
            raise DBAPIError("UPDATE ...", {}, _Deadlock("deadlock detected"))
        return "saved"

    assert retrying(deadlocks_twice, base_delay=0) == "saved" and len(calls) == 3

    calls.clear()

    def always():
        calls.append(1)
        raise DBAPIError("UPDATE ...", {}, _Deadlock("deadlock detected"))

    with pytest.raises(DBAPIError):
        retrying(always, base_delay=0)
    assert len(calls) == RETRY_ATTEMPTS

    calls.clear()

    def locked():
        calls.append(1)
        raise OperationalError("UPDATE ...", {}, Exception("database is locked"))

    with pytest.raises(OperationalError):
        retrying(locked, base_delay=0)
    assert len(calls) == 1  # not a deadlock: the busy timeout has already been waited out
