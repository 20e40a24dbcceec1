"""Helpers shared by the tests (imported as `tests.support`)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.access import Actor
from core.db import make_engine, normalize_url

SIGN_IN_TITLE = "NGI Learning — staff sign-in"  # the title core/ui.py gives the sign-in form
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# An admin for setting up fixtures (no staff row: nothing it does is attributed).
SETUP_ADMIN = Actor(id=None, email="setup@test.ngi", display_name="Test setup", role="admin")


def unavailable(reason: str):
    """Skip with a visible reason locally; in CI a missing dependency is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_PG


_pg_state: dict[str, object] = {}


def postgres_reachable() -> str | None:
    """None when the server answers, else why not (checked once per process)."""
    if "error" not in _pg_state:
        engine = make_engine(postgres_admin_url(), connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            _pg_state["error"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            _pg_state["error"] = f"PostgreSQL at {postgres_admin_url()} is not reachable: {str(exc).splitlines()[0]}"
        finally:
            engine.dispose()
    return _pg_state["error"]  # type: ignore[return-value]


def create_postgres_database(prefix: str = "ngi_test", template: str | None = None) -> tuple[str, str]:
    """CREATE DATABASE (a copy of `template` if given); returns (name, url). The caller drops it."""
    error = postgres_reachable()
    if error:
        unavailable(error)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        admin.dispose()
    return name, normalize_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_postgres_databases(*names: str) -> None:
    """Disconnect whoever is still connected (pooled engines, app servers) and drop."""
    admin = make_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for name in names:
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        admin.dispose()


@contextmanager
def fresh_postgres_database(prefix: str = "ngi_test"):
    """CREATE DATABASE for the duration of the block; yields its URL."""
    name, url = create_postgres_database(prefix)
    try:
        yield url
    finally:
        drop_postgres_databases(name)


# The cohort the page tests and the backup drills share (so it is seeded once per engine):
# 40 students; with seed 3 two companies reach 5 leaderboard entries, the rest stay below.
DEMO_STUDENTS, DEMO_SEED = 40, 3


@dataclass(frozen=True)
class DemoDB:
    url: str
    data_dir: Path  # NGI_DATA_DIR: the stored files live under data_dir / "files"
    today: date


class DemoCohorts:
    """Demo cohorts (core.demo.seed_demo) seeded once per test session for each (engine,
    students, seed, today), then handed out as copies: seeding builds a workbook per
    submission and per company package, ~10 s each time, while a copy is a file copy
    (SQLite) or CREATE DATABASE ... TEMPLATE (PostgreSQL) plus a copy of the stored files.
    The templates themselves are never handed out, so no test can change them."""

    def __init__(self, folder: Path, sqlite_template: Path):
        self._folder = folder
        self._sqlite_template = sqlite_template
        self._templates: dict[tuple, tuple[DemoDB, str | None]] = {}
        self.summaries: dict[tuple, object] = {}  # (kind, students, seed, today) -> demo.DemoSummary
        self._shared: dict[tuple, DemoDB] = {}
        self._databases: list[str] = []  # PostgreSQL databases to drop at the end of the session

    def _template(self, kind: str, students: int, seed: int, today: date | None) -> tuple[DemoDB, str | None]:
        from core import demo, schema
        from core.db import utcnow
        from core.storage import storage_for

        key = (kind, students, seed, today)
        if key not in self._templates:
            folder = Path(tempfile.mkdtemp(prefix=f"template-{kind}-", dir=self._folder))
            name = None
            if kind == "sqlite":
                shutil.copy(self._sqlite_template, folder / "ngi.db")
                url = f"sqlite:///{folder / 'ngi.db'}"
            else:
                name, url = create_postgres_database("ngi_demo")
                self._databases.append(name)
            day = today or utcnow().date()
            engine = make_engine(url)
            try:
                if kind != "sqlite":
                    schema.upgrade(engine)
                self.summaries[key] = demo.seed_demo(engine, students=students, seed=seed, today=day,
                                                     storage=storage_for(str(folder / "files")))
            finally:
                engine.dispose()  # a PostgreSQL template must have no connections to be copied
            self._templates[key] = (DemoDB(url=url, data_dir=folder, today=day), name)
        return self._templates[key]

    def copy(self, kind: str, folder: Path, *, students: int = DEMO_STUDENTS, seed: int = DEMO_SEED,
             today: date | None = None) -> DemoDB:
        """A writable copy of the cohort: its database and its files under `folder`
        (folder / "files"; on SQLite the database is folder / "ngi.db")."""
        template, name = self._template(kind, students, seed, today)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(template.data_dir / "files", folder / "files")
        if name is None:
            shutil.copy(template.data_dir / "ngi.db", folder / "ngi.db")
            url = f"sqlite:///{folder / 'ngi.db'}"
        else:
            clone, url = create_postgres_database("ngi_demo", template=name)
            self._databases.append(clone)
        return DemoDB(url=url, data_dir=folder, today=template.today)

    def shared(self, kind: str, *, students: int = DEMO_STUDENTS, seed: int = DEMO_SEED,
               today: date | None = None) -> DemoDB:
        """One copy per session that every test asking for the same cohort reads; only for
        tests that write nothing."""
        key = (kind, students, seed, today)
        if key not in self._shared:
            folder = Path(tempfile.mkdtemp(prefix=f"shared-{kind}-", dir=self._folder))
            self._shared[key] = self.copy(kind, folder, students=students, seed=seed, today=today)
        return self._shared[key]

    def close(self) -> None:
        if self._databases:
            drop_postgres_databases(*self._databases)


_table_names: dict[str, list[str]] = {}


def truncate_all(engine) -> None:
    """Empty every application table and restart its ids, keeping the schema (per-test
    isolation). On PostgreSQL only the tables that hold rows are truncated: TRUNCATE
    costs file work per table, and most tests touch a few of the forty."""
    from core.db import Base

    key = engine.url.render_as_string(hide_password=False)
    if key not in _table_names:
        present = set(sa.inspect(engine).get_table_names())
        names = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name in present]
        # procrastinate's jobs point at learning_jobs ids, which RESTART IDENTITY reuses.
        names += [t for t in ("procrastinate_events", "procrastinate_jobs") if t in present]
        _table_names[key] = names
    tables = _table_names[key]
    with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            for table in tables:
                conn.exec_driver_sql(f"DELETE FROM {table}")
            return
        probe = " UNION ALL ".join(f"(SELECT '{t}' FROM {t} LIMIT 1)" for t in tables)
        filled = [row[0] for row in conn.exec_driver_sql(probe)]
        if filled:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(filled)} RESTART IDENTITY CASCADE")
        # Ids restart in the emptied-by-the-test tables too, as TRUNCATE ... RESTART did.
        conn.execute(sa.text(
            "SELECT setval(s.oid, 1, false) FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "AND d.deptype IN ('a', 'i') JOIN pg_class t ON t.oid = d.refobjid "
            "WHERE s.relkind = 'S' AND t.relname = ANY(:tables)"), {"tables": tables})


APP = Path(__file__).resolve().parent.parent / "app.py"
PAGES = APP.parent / "pages"


STAFF_PASSWORD = "correct horse battery"  # every staff_actor account's
_password_hashes: dict[str, str] = {}


def staff_password_hash() -> str:
    """auth.hash_password(STAFF_PASSWORD), computed once per process: a real argon2id hash
    costs ~0.25 s of CPU (64 MiB, by design), and most tests create a fresh account."""
    from core import auth

    if STAFF_PASSWORD not in _password_hashes:
        _password_hashes[STAFF_PASSWORD] = auth.hash_password(STAFF_PASSWORD)
    return _password_hashes[STAFF_PASSWORD]


def staff_actor(engine, role: str, email: str | None = None):
    """A real staff account of `role` (created if missing) whose password is
    STAFF_PASSWORD, as a core Actor. The account is added by auth.add_staff; its password
    hash is the one staff_password_hash() made with auth.hash_password, so it signs in."""
    from sqlalchemy import select

    from core import auth
    from core.db import session_scope
    from core.models import StaffUser

    email = email or f"{role}@test.ngi"
    with session_scope(engine) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = auth.add_staff(session, actor=SETUP_ADMIN, email=email, role=role, display_name=f"Test {role}")
            user.password_hash = staff_password_hash()
        return auth.actor_of(user)


def app_test(db_url: str, monkeypatch, *, role: str | None, page: str | None = None, timeout: float = 60):
    """An AppTest of the router (or a cold deep link to `pages/<page>.py`), on `db_url`,
    signed in as a staff member of `role` (or signed out when role is None)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core.db import make_engine

    monkeypatch.setenv("DATABASE_URL", db_url)
    st.cache_resource.clear()
    st.cache_data.clear()
    script = APP if page is None else PAGES / f"{page}.py"
    at = AppTest.from_file(str(script), default_timeout=timeout)
    if role is not None:
        engine = make_engine(db_url)
        actor = staff_actor(engine, role)
        engine.dispose()
        at.session_state["ngi_actor_id"] = actor.id
        at.session_state["ngi_actor_role"] = actor.role
    return at
