"""Sign-in rules: argon2 hashes, per-account lockout, one generic refusal, OIDC email
matching, and demo accounts that exist only in demo mode."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from core import auth
from core.auth import system_actor
from core.db import session_scope, utcnow
from core.errors import Conflict, Forbidden, Invalid
from core.models import AuditLog, StaffUser

PASSWORD = "correct horse battery"


@pytest.fixture
def instructor(engine):
    auth.create_staff(engine, actor=system_actor(engine), email="Ian@Example.org", role="instructor", display_name="Ian",
                      password=PASSWORD)
    return "ian@example.org"


def test_passwords_are_stored_as_argon2_hashes(engine, instructor):
    with session_scope(engine) as session:
        stored = session.scalar(select(StaffUser.password_hash).where(StaffUser.email == instructor))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    actor = auth.sign_in(engine, email="  IAN@example.org ", password=PASSWORD)
    assert (actor.email, actor.role) == (instructor, "instructor")


def test_short_password_and_duplicate_email_are_refused(engine, instructor):
    with pytest.raises(Invalid, match="at least 10 characters"):
        auth.create_staff(engine, actor=system_actor(engine), email="new@example.org", role="admin", password="short")
    with pytest.raises(Conflict, match="already exists"):
        auth.create_staff(engine, actor=system_actor(engine), email="IAN@example.org", role="admin", password=PASSWORD)


def test_lockout_after_five_failures_refuses_even_the_right_password_for_15_minutes(engine, instructor):
    t0 = utcnow()
    for i in range(auth.MAX_FAILURES):
        with pytest.raises(Forbidden):
            auth.sign_in(engine, email=instructor, password=f"wrong password {i}", now=t0 + timedelta(seconds=i))
    for minutes in (1, 10, 14):
        with pytest.raises(Forbidden) as refused:
            auth.sign_in(engine, email=instructor, password=PASSWORD, now=t0 + timedelta(minutes=minutes))
        assert refused.value.message == auth.REFUSAL
    actor = auth.sign_in(engine, email=instructor, password=PASSWORD, now=t0 + timedelta(minutes=15, seconds=5))
    assert actor.email == instructor
    with session_scope(engine) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == instructor))
        assert (user.failed_login_count, user.locked_until) == (0, None)
        assert session.scalar(select(AuditLog.action).where(AuditLog.action == "staff.locked_out"))


def test_four_failures_do_not_lock_and_success_resets_the_count(engine, instructor):
    t0 = utcnow()
    for _ in range(auth.MAX_FAILURES - 1):
        with pytest.raises(Forbidden):
            auth.sign_in(engine, email=instructor, password="not the password", now=t0)
    assert auth.sign_in(engine, email=instructor, password=PASSWORD, now=t0).email == instructor
    for _ in range(auth.MAX_FAILURES - 1):
        with pytest.raises(Forbidden):
            auth.sign_in(engine, email=instructor, password="not the password", now=t0)
    assert auth.sign_in(engine, email=instructor, password=PASSWORD, now=t0).email == instructor


def test_refusal_is_the_same_whether_or_not_the_email_exists(engine, instructor):
    messages = set()
    for email, password in [(instructor, "wrong password!"), ("nobody@example.org", PASSWORD),
                            ("not an email", PASSWORD), ("", "")]:
        with pytest.raises(Forbidden) as refused:
            auth.sign_in(engine, email=email, password=password)
        messages.add(refused.value.message)
    assert messages == {auth.REFUSAL}
    assert "exist" not in auth.REFUSAL.lower()


def test_deactivated_account_cannot_sign_in(engine, instructor):
    auth.deactivate_staff(engine, actor=system_actor(engine), email=instructor)
    with pytest.raises(Forbidden) as refused:
        auth.sign_in(engine, email=instructor, password=PASSWORD)
    assert refused.value.message == auth.REFUSAL


def test_oidc_email_must_belong_to_an_active_staff_user(engine, instructor):
    with session_scope(engine) as session:
        assert auth.actor_for_oidc_email(session, "IAN@example.org").email == instructor
        with pytest.raises(Forbidden, match="not a staff account"):
            auth.actor_for_oidc_email(session, "stranger@example.org")
        with pytest.raises(Forbidden, match="did not share an email"):
            auth.actor_for_oidc_email(session, None)
        with pytest.raises(Forbidden, match="not verified"):
            auth.actor_for_oidc_email(session, instructor, email_verified=False)
    auth.deactivate_staff(engine, actor=system_actor(engine), email=instructor)
    with session_scope(engine) as session, pytest.raises(Forbidden, match="not a staff account"):
        auth.actor_for_oidc_email(session, instructor)


def test_demo_accounts_work_only_while_demo_mode_is_on(engine, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("NGI_DEMO_MODE", "1")
    with session_scope(engine) as session:
        accounts = auth.sync_demo_accounts(session, demo=True)
    assert sorted(role for _, _, role in accounts) == ["admin", "instructor", "program_lead"]
    email = accounts[0][0]
    assert auth.sign_in(engine, email=email, password=auth.DEMO_PASSWORD).email == email

    monkeypatch.setenv("NGI_DEMO_MODE", "0")  # demo mode off: refused even before removal
    with pytest.raises(Forbidden):
        auth.sign_in(engine, email=email, password=auth.DEMO_PASSWORD)
    with session_scope(engine) as session:
        assert auth.sync_demo_accounts(session, demo=False) == []
    with session_scope(engine) as session:
        assert session.scalar(select(StaffUser).where(StaffUser.is_demo.is_(True))) is None


def test_demo_mode_is_never_on_when_database_url_points_elsewhere(monkeypatch):
    from core import config

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@db.example/prod")
    monkeypatch.setenv("NGI_DEMO_MODE", "1")
    assert config.demo_mode() is False


def test_staff_cli_adds_changes_password_lists_and_deactivates(db_url, monkeypatch, capsys):
    from core.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "lee@example.org", "--role", "program_lead", "--name", "Lee",
                 "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "passwd", "lee@example.org", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert main(["staff", "passwd", "lee@example.org", "--password-stdin"]) == 0
    assert main(["staff", "list"]) == 0
    assert "lee@example.org" in capsys.readouterr().out
    assert main(["staff", "deactivate", "lee@example.org"]) == 0
    from core.db import make_engine

    engine = make_engine(db_url)
    try:
        with pytest.raises(Forbidden):
            auth.sign_in(engine, email="lee@example.org", password="another long password")
        with session_scope(engine) as session:
            actions = list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
        assert actions == ["staff.add", "staff.passwd", "staff.deactivate"]
    finally:
        engine.dispose()
