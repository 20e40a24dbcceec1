"""Staff sessions on both engines: sign-in makes a token that restores the staff member
on a new connection; it stops working after sign-out, deactivation, a password change,
the idle timeout or the absolute lifetime; the database never holds the token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import auth, staff_sessions
from core.db import session_scope, utcnow
from core.errors import Forbidden
from core.models import StaffSession
from tests.support import staff_actor

PASSWORD = "correct horse battery"  # tests.support.staff_actor's


@pytest.fixture
def signed_in(engine):
    staff_actor(engine, "instructor", email="ivy@test.ngi")
    actor, token = staff_sessions.sign_in(engine, email="ivy@test.ngi", password=PASSWORD, user_agent="Chromium/140")
    return actor, token


def test_sign_in_token_restores_the_staff_member_and_only_its_hash_is_stored(engine, signed_in):
    actor, token = signed_in
    restored = staff_sessions.resume(engine, token)
    assert restored is not None and restored.email == "ivy@test.ngi" and restored.role == "instructor"
    with session_scope(engine) as session:
        row = session.scalars(select(StaffSession)).one()
    assert row.staff_id == actor.id and row.user_agent == "Chromium/140"
    assert row.token_hash == staff_sessions.hash_token(token) and token not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(days=7)  # the default absolute lifetime
    assert staff_sessions.resume(engine, token + "x") is None
    assert staff_sessions.resume(engine, None) is None


def test_wrong_password_makes_no_session(engine):
    staff_actor(engine, "admin", email="ada@test.ngi")
    with pytest.raises(Forbidden) as refused:
        staff_sessions.sign_in(engine, email="ada@test.ngi", password="wrong password!")
    assert refused.value.message == auth.REFUSAL
    with session_scope(engine) as session:
        assert session.scalars(select(StaffSession)).all() == []


def test_idle_session_expires_after_the_idle_timeout_and_activity_keeps_it_alive(engine, signed_in, monkeypatch):
    monkeypatch.setenv("NGI_SESSION_IDLE_TIMEOUT", "30m")
    _, token = signed_in
    start = utcnow()
    # Activity every 20 minutes keeps it going well past 30 minutes...
    for minutes in (20, 40, 60):
        assert staff_sessions.resume(engine, token, now=start + timedelta(minutes=minutes)) is not None
    # ...and 31 minutes of silence ends it.
    assert staff_sessions.resume(engine, token, now=start + timedelta(minutes=91)) is None


def test_session_ends_at_its_absolute_lifetime_however_active(engine, monkeypatch):
    monkeypatch.setenv("NGI_SESSION_MAX_AGE", "2h")
    staff_actor(engine, "instructor", email="ivy@test.ngi")
    start = utcnow()
    _, token = staff_sessions.sign_in(engine, email="ivy@test.ngi", password=PASSWORD, now=start)
    for minutes in range(30, 120, 30):
        assert staff_sessions.resume(engine, token, now=start + timedelta(minutes=minutes)) is not None
    assert staff_sessions.resume(engine, token, now=start + timedelta(minutes=121)) is None


def test_sign_out_ends_that_session_only(engine, signed_in):
    _, token = signed_in
    _, other = staff_sessions.sign_in(engine, email="ivy@test.ngi", password=PASSWORD)  # another browser
    staff_sessions.end(engine, token)
    assert staff_sessions.resume(engine, token) is None
    assert staff_sessions.resume(engine, other) is not None


def test_deactivating_the_account_revokes_its_sessions(engine, signed_in):
    _, token = signed_in
    admin = auth.system_actor(engine)
    auth.deactivate_staff(engine, actor=admin, email="ivy@test.ngi")
    with session_scope(engine) as session:
        auth.find_staff(session, "ivy@test.ngi").is_active = True  # even if reactivated at once
    assert staff_sessions.resume(engine, token) is None
    with session_scope(engine) as session:
        assert session.scalars(select(StaffSession.revoked_at)).one() is not None


def test_changing_the_password_revokes_its_sessions(engine, signed_in):
    _, token = signed_in
    staff_actor(engine, "admin", email="other@test.ngi")
    _, bystander = staff_sessions.sign_in(engine, email="other@test.ngi", password=PASSWORD)
    admin = auth.system_actor(engine)
    auth.change_password(engine, actor=admin, email="ivy@test.ngi", password="a brand new password")
    assert staff_sessions.resume(engine, token) is None
    assert staff_sessions.resume(engine, bystander) is not None  # another account is untouched
    actor, fresh = staff_sessions.sign_in(engine, email="ivy@test.ngi", password="a brand new password")
    assert staff_sessions.resume(engine, fresh) == actor


def test_deleting_the_account_deletes_its_sessions(engine, signed_in):
    with session_scope(engine) as session:
        session.delete(auth.find_staff(session, "ivy@test.ngi"))
    with session_scope(engine) as session:
        assert session.scalars(select(StaffSession)).all() == []


@pytest.mark.parametrize("value, seconds", [("90s", 90), ("15m", 900), ("8h", 28800), ("7d", 604800), ("45", 45)])
def test_session_durations_read_units(monkeypatch, value, seconds):
    monkeypatch.setenv("NGI_SESSION_IDLE_TIMEOUT", value)
    assert staff_sessions.idle_timeout() == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["eight hours", "0h", "-1d"])
def test_a_bad_duration_names_the_setting(monkeypatch, value):
    monkeypatch.setenv("NGI_SESSION_MAX_AGE", value)
    with pytest.raises(ValueError, match="NGI_SESSION_MAX_AGE"):
        staff_sessions.max_age()
