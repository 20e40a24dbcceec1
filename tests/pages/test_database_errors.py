"""A database that is unreachable or not migrated gets one clear line on the page,
never a traceback."""

from __future__ import annotations

import pytest

from tests.support import app_test


def _sign_in(at):
    at.text_input(key="sign_in_email").input("admin@example.org")
    at.text_input(key="sign_in_password").input("correct horse battery")
    at.button[0].click().run()
    return at


@pytest.mark.parametrize(
    "make_url, expected",
    [
        (lambda tmp: f"sqlite:///{tmp / 'never-migrated.db'}", "run `ngi db upgrade`"),
        (lambda tmp: "postgresql://postgres@127.0.0.1:1/ngi", "cannot connect to postgresql at 127.0.0.1:1"),
    ],
    ids=["unmigrated", "unreachable"],
)
def test_sign_in_against_a_broken_database_explains_itself(tmp_path, monkeypatch, make_url, expected):
    at = app_test(make_url(tmp_path), monkeypatch, role=None)
    at.run()
    _sign_in(at)
    assert not at.exception, [e.value for e in at.exception]
    assert any(expected in e.value for e in at.error), [e.value for e in at.error]


def test_sign_in_while_the_database_stays_locked_is_one_line(sqlite_url, monkeypatch):
    """Another writer holds SQLite's write lock past the busy timeout: the sign-in form
    says the database is busy in one line; it shows no traceback."""
    import sqlite3

    from core.db import make_engine
    from tests.support import staff_actor

    engine = make_engine(sqlite_url)
    staff_actor(engine, "admin", email="admin@example.org")
    engine.dispose()
    monkeypatch.setenv("NGI_SQLITE_BUSY_TIMEOUT_MS", "300")
    at = app_test(sqlite_url, monkeypatch, role=None)
    at.run()
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        _sign_in(at)
    finally:
        holder.rollback()
        holder.close()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "database is busy" in errors[0] and "\n" not in errors[0], errors
