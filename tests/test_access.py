"""Access rules called directly in core, without the UI: a service a role may not use
raises Forbidden, whatever the page shows or hides."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from core import attention, auth, companies, content, leaderboard, students, telemetry
from core.access import CAPABILITIES, SYSTEM_EMAIL, Actor, can_role, require
from core.db import session_scope
from core.errors import Forbidden
from core.models import Student
from tests.support import staff_actor

# The role table, written out independently of core/access.py.
EXPECTED = {
    "instructor": {"content.read", "packages.read", "packages.download", "review.read", "review.act",
                   "review.reveal", "feedback.read", "leaderboard.read", "analytics.read", "submissions.submit",
                   "grades.read", "grades.grade"},
    "admin": set(CAPABILITIES),
    "program_lead": {"content.read", "packages.read", "review.read", "feedback.read", "leaderboard.read",
                     "analytics.read", "analytics.full", "grades.read"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_capability_matrix_matches_the_role_table(role):
    assert {cap for cap in CAPABILITIES if can_role(role, cap)} == EXPECTED[role]


def test_nobody_signed_in_and_unknown_capabilities_are_refused():
    with pytest.raises(Forbidden, match="sign in"):
        require(None, "content.read")
    with pytest.raises(KeyError):
        can_role("admin", "content.delete_everything")
    stranger = Actor(id=1, email="x@y.z", display_name="X", role="student")
    with pytest.raises(Forbidden):
        require(stranger, "content.read")


def _in_session(engine, fn, *args, **kwargs):
    with session_scope(engine) as session:
        return fn(session, *args, **kwargs)


def _calls(engine, actor):
    """Every write or privileged service this module's owner wrote, with valid input."""
    return {
        "leaderboard.reveal_identities": lambda: leaderboard.reveal_identities(
            engine, actor=actor, ticker="TSLA", reason="awarding the cohort prize"),
        "auth.create_staff": lambda: auth.create_staff(
            engine, actor=actor, email="new@example.org", role="instructor", password="a long password"),
        "auth.change_password": lambda: auth.change_password(
            engine, actor=actor, email="admin@test.ngi", password="a long password"),
        "auth.deactivate_staff": lambda: auth.deactivate_staff(engine, actor=actor, email="admin@test.ngi"),
        "auth.list_staff": lambda: _in_session(engine, auth.list_staff, actor=actor),
        "auth.add_staff": lambda: _in_session(engine, auth.add_staff, actor=actor, email="added@example.org",
                                              role="instructor"),
        "companies.add_company": lambda: companies.add_company(
            engine, actor=actor, ticker="ZED", company_name="Zed Corp", cik="1234"),
        "companies.set_active": lambda: companies.set_active(engine, actor=actor, ticker="KO", active=False),
        "students.erase": lambda: students.erase(engine, actor=actor, student_id=_student(engine)),
        "telemetry.import_events": lambda: telemetry.import_events(engine, _empty_file(), actor=actor),
    }


def _student(engine) -> int:
    with session_scope(engine) as session:
        session.merge(Student(id=77, email="erase.me@school.edu", full_name="Erase Me", cohort="2025A"))
    return 77


def _empty_file() -> Path:
    path = Path(tempfile.mkdtemp()) / "events.jsonl"
    path.write_text("")
    return path


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_admin_only_services_refuse_other_roles(seeded_engine, role):
    staff_actor(seeded_engine, "admin")
    actor = staff_actor(seeded_engine, role)
    for name, call in _calls(seeded_engine, actor).items():
        with pytest.raises(Forbidden):
            call()
            pytest.fail(f"{name} let a {role} through")


def test_admin_may_call_every_one_of_them(seeded_engine):
    admin = staff_actor(seeded_engine, "admin")
    calls = _calls(seeded_engine, admin)
    calls.pop("auth.deactivate_staff")  # an admin may not deactivate themself (covered below)
    for call in calls.values():
        call()
    with pytest.raises(Exception, match="your own account"):
        auth.deactivate_staff(seeded_engine, actor=admin, email=admin.email)


@pytest.mark.parametrize("role", ["instructor", "admin", "program_lead"])
def test_read_services_need_a_signed_in_staff_member(seeded_engine, role):
    actor = staff_actor(seeded_engine, role)
    with session_scope(seeded_engine) as session:
        assert content.content_tree(session, actor=actor)
        assert leaderboard.board(session, actor=actor)["companies"]
        assert set(attention.summary(session, actor=actor)) == {
            "awaiting_review", "flagged_feedback", "at_risk", "stale_packages"}
        for read in (content.content_tree, leaderboard.board, attention.awaiting_review, attention.at_risk):
            with pytest.raises(Forbidden):
                read(session, actor=None)


def test_system_actor_is_a_real_admin_row_no_one_can_sign_in_as(engine):
    actor = auth.system_actor(engine)
    assert (actor.role, actor.email, actor.display_name) == ("admin", SYSTEM_EMAIL, "System (ngi CLI)")
    assert actor.id is not None and auth.system_actor(engine).id == actor.id  # created once, then found
    with session_scope(engine) as session:
        assert auth.current_actor(session, actor.id) is None
        with pytest.raises(Forbidden):
            auth.actor_for_oidc_email(session, SYSTEM_EMAIL)
    with pytest.raises(Forbidden):
        auth.sign_in(engine, email=SYSTEM_EMAIL, password="")
