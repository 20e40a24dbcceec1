"""Engine and session plumbing shared by the app, the CLI and the migrations."""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core import config
from core.errors import NotFound, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound="Base")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# JSON on SQLite, JSONB on PostgreSQL so the payloads can be indexed and queried.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, on both engines.

    SQLite has no timezone type: values are stored as naive UTC text and come back
    tagged UTC. Naive input is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL on SQLite can hand back text
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalize_url(url: str | URL) -> URL:
    """`postgres://` and `postgresql://` mean psycopg 3 here, never psycopg2."""
    text = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    for prefix in ("postgres://", "postgresql://"):
        if text.startswith(prefix):
            text = "postgresql+psycopg://" + text[len(prefix):]
    return make_url(text)


def make_engine(url: str | URL | None = None, *, foreign_keys: bool = True, **kwargs) -> Engine:
    """An engine for `url`, `DATABASE_URL`, or the embedded SQLite file.

    `foreign_keys=False` is for the migration connection only: Alembic's batch mode
    copies and drops SQLite tables, which with the pragma on would cascade deletes.
    """
    resolved = normalize_url(url or config.database_url())
    if resolved.get_backend_name() == "sqlite":
        database = resolved.database
        if database and database != ":memory:" and not database.startswith("file:"):
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", _busy_timeout_ms() / 1000)
        engine = create_engine(resolved, **kwargs)
        _configure_sqlite(engine, foreign_keys=foreign_keys)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 10)
    return create_engine(resolved, **kwargs)


def _busy_timeout_ms() -> int:
    return int(config.env("NGI_SQLITE_BUSY_TIMEOUT_MS") or 15000)


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Hand transaction control to SQLAlchemy (the `begin` hook below) so that
        # BEGIN IMMEDIATE is possible and SAVEPOINTs behave.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={_busy_timeout_ms()}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Erasure must leave no bytes behind; Debian's build defaults this on, others don't.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # session_scope (every write) takes the write lock up front: a deferred
        # transaction that reads and then writes cannot wait for the lock (SQLite
        # answers SQLITE_BUSY at once, ignoring the busy timeout), and two writers that
        # both read "latest version = 3" could otherwise both write version 4.
        # read_scope stays deferred, and `query_only` turns a write slipped into it
        # into a loud error instead of an intermittent "database is locked".
        mode = conn.get_execution_options().get("sqlite_begin")
        conn.exec_driver_sql(f"PRAGMA query_only={'ON' if mode == 'read' else 'OFF'}")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "write" else "BEGIN")


class CommitOutcomeUnknown(Unavailable):
    """COMMIT was sent but no answer came back: the change may or may not be saved.

    Callers must not undo side effects (e.g. delete a stored file) on this error;
    they may check the database on a fresh connection to find out.
    """


# PostgreSQL: deadlock_detected, serialization_failure. The whole transaction is
# lost and running it again is the documented remedy.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
RETRY_ATTEMPTS = 5
_DEFINITE_SQLITE_CODES = {5, 6, 13, 19}  # BUSY, LOCKED, FULL, CONSTRAINT: nothing was written


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and _sqlstate(exc) in RETRYABLE_SQLSTATES


def _commit_definitely_failed(exc: BaseException) -> bool:
    """True when a failed COMMIT surely left nothing behind; False when it may have
    reached the server and been applied (connection lost, I/O error)."""
    if not isinstance(exc, DBAPIError):
        return not isinstance(exc, (OSError, ConnectionError))
    if exc.connection_invalidated:
        return False
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in _DEFINITE_SQLITE_CODES  # primary code of an extended one
    state = _sqlstate(exc)
    # A server-side refusal names an SQLSTATE; class 08 is a connection exception.
    return bool(state and not state.startswith("08"))


def get_or_not_found(session: Session, model: type[M], ident: object, message: str, *, lock: bool = False) -> M:
    """The row of `model` with this primary key, or NotFound(message), which the page shows.
    `lock` takes the row for update (SELECT ... FOR UPDATE on PostgreSQL)."""
    row = session.get(model, ident, with_for_update=lock)
    if row is None:
        raise NotFound(message)
    return row


@contextmanager
def session_scope(engine: Engine, *, immediate: bool = True) -> Iterator[Session]:
    """One unit of work that writes: commits on success, rolls back on any exception.

    On SQLite it takes the write lock at BEGIN (BEGIN IMMEDIATE), so concurrent writers
    queue for up to the busy timeout instead of failing. On PostgreSQL a writer still
    locks the rows it reads to decide what to write (SELECT ... FOR UPDATE). Use
    `read_scope` for work that only reads. `immediate=False` gives the old deferred
    transaction, for reads that predate `read_scope`; never write in one.

    A COMMIT whose outcome is unknown raises CommitOutcomeUnknown; any other failure
    means nothing was saved.
    """
    write = immediate and engine.dialect.name == "sqlite"
    bind = engine.execution_options(sqlite_begin="write") if write else engine
    session = Session(bind=bind, expire_on_commit=False)
    try:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        try:
            session.commit()
        except BaseException as exc:
            try:
                session.rollback()
            except Exception:  # the connection is likely gone already
                log.debug("rollback after a failed commit also failed", exc_info=True)
            if _commit_definitely_failed(exc):
                raise
            raise CommitOutcomeUnknown(
                "The database connection failed while saving, so the change may or may not have been "
                f"saved ({_first_line(exc)}). Check before trying again."
            ) from exc
    finally:
        session.close()


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads: a deferred transaction (cheap, never waits for
    writers). On SQLite a write inside it fails with "attempt to write a readonly
    database" rather than intermittently with "database is locked"."""
    bind = engine.execution_options(sqlite_begin="read") if engine.dialect.name == "sqlite" else engine
    session = Session(bind=bind, expire_on_commit=False)
    try:
        yield session
        session.rollback()  # nothing to keep; ends the read snapshot
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def retrying(work: Callable[[], T], *, attempts: int = RETRY_ATTEMPTS, base_delay: float = 0.02) -> T:
    """Run `work` (a whole unit of work: it opens and commits its own transaction) again
    when PostgreSQL aborted it for a deadlock or serialization failure, up to
    `attempts` times, sleeping a short jittered, growing backoff in between."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == attempts:
                raise
            log.info("transaction aborted (%s), attempt %s of %s; retrying", _sqlstate(exc), attempt, attempts)
            time.sleep(random.uniform(0, base_delay * 2 ** attempt))
    raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def describe_database_error(exc: BaseException) -> str:
    """One line for a page or the CLI when the database refused or failed an operation."""
    reason = _first_line(exc)
    if "locked" in reason or "busy" in reason:
        return f"The database is busy with other changes ({reason}); try again in a moment."
    return f"The database could not complete the operation ({reason}); try again, or ask an admin to check it."


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def describe_connection_error(url: str | URL, exc: BaseException) -> str:
    """One line that names where we tried to connect, never the password."""
    parsed = normalize_url(url)
    reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    if parsed.get_backend_name() == "sqlite":
        where = f"SQLite file {parsed.database}"
    else:
        where = f"{parsed.get_backend_name()} at {parsed.host or 'localhost'}:{parsed.port or 5432}"
        if parsed.database:
            where += f"/{parsed.database}"
        if parsed.username:
            where += f" as {parsed.username}"
    return f"cannot connect to {where}: {first}"


def check_connection(engine: Engine) -> None:
    """Raise Unavailable with a one-line message if the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except (OperationalError, DBAPIError) as exc:
        raise Unavailable(describe_connection_error(engine.url, exc)) from None
