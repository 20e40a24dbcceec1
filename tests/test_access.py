"""Access rules called directly in core, without the UI: a service a role may not use
raises Forbidden, whatever the page shows or hides."""

from __future__ import annotations

import pytest

from core import attention, auth, content, leaderboard
from core.access import CAPABILITIES, SYSTEM, Actor, can_role, require
from core.db import session_scope
from core.errors import Forbidden
from tests.support import staff_actor

# The role table, written out independently of core/access.py.
EXPECTED = {
    "instructor": {"content.read", "packages.read", "packages.download", "review.read", "review.act",
                   "review.reveal", "feedback.read", "leaderboard.read", "analytics.read"},
    "admin": set(CAPABILITIES),
    "program_lead": {"content.read", "packages.read", "review.read", "feedback.read", "leaderboard.read",
                     "analytics.read", "analytics.full"},
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


def _calls(session, actor):
    """Every write or privileged service this module's owner wrote, with valid input."""
    return {
        "content.update_content": lambda: content.update_content(
            session, actor, key="business_foundations", title="Business Foundations II", description="x"),
        "content.set_published": lambda: content.set_published(
            session, actor, key="capstone", published=False),
        "leaderboard.reveal_identities": lambda: leaderboard.reveal_identities(
            session, actor, ticker="TSLA", reason="awarding the cohort prize"),
        "auth.create_staff": lambda: auth.create_staff(
            session, actor, email="new@example.org", role="instructor", password="a long password"),
        "auth.change_password": lambda: auth.change_password(
            session, actor, email="admin@test.ngi", password="a long password"),
        "auth.deactivate_staff": lambda: auth.deactivate_staff(session, actor, email="admin@test.ngi"),
        "auth.list_staff": lambda: auth.list_staff(session, actor),
    }


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_admin_only_services_refuse_other_roles(seeded_engine, role):
    staff_actor(seeded_engine, "admin")
    actor = staff_actor(seeded_engine, role)
    with session_scope(seeded_engine) as session:
        names = list(_calls(session, actor))
    for name in names:
        with pytest.raises(Forbidden), session_scope(seeded_engine) as session:
            _calls(session, actor)[name]()


def test_admin_may_call_every_one_of_them(seeded_engine):
    admin = staff_actor(seeded_engine, "admin")
    with session_scope(seeded_engine) as session:
        calls = _calls(session, admin)
        calls.pop("auth.deactivate_staff")  # an admin may not deactivate themself (covered below)
        for call in calls.values():
            call()
    with pytest.raises(Exception, match="your own account"), session_scope(seeded_engine) as session:
        auth.deactivate_staff(session, admin, email=admin.email)


@pytest.mark.parametrize("role", ["instructor", "admin", "program_lead"])
def test_read_services_need_a_signed_in_staff_member(seeded_engine, role):
    actor = staff_actor(seeded_engine, role)
    with session_scope(seeded_engine) as session:
        assert content.content_tree(session, actor)
        assert leaderboard.board(session, actor)["companies"]
        assert set(attention.summary(session, actor)) == {
            "awaiting_review", "flagged_feedback", "at_risk", "stale_packages"}
        for read in (content.content_tree, leaderboard.board, attention.awaiting_review, attention.at_risk):
            with pytest.raises(Forbidden):
                read(session, None)


def test_system_actor_is_an_admin_for_the_cli():
    assert SYSTEM.role == "admin" and SYSTEM.id is None
