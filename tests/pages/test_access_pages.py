"""Every page, every role, on a demo cohort (SQLite and PostgreSQL): renders without an
exception; a cold deep link without sign-in shows only the sign-in form; the guard
refuses a role without the capability; sign-in and sign-out work through the form."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import auth
from core.db import make_engine
from tests.support import SIGN_IN_TITLE, app_test, staff_actor

PAGES = ["home", "content", "packages", "review", "moderation", "leaderboard", "analytics"]
ROLES = ["instructor", "admin", "program_lead"]


@pytest.fixture(autouse=True)
def _files(demo_db, monkeypatch):
    monkeypatch.setenv("NGI_DATA_DIR", str(demo_db.data_dir))
    monkeypatch.delenv("NGI_STORAGE_URL", raising=False)


def _texts(at) -> str:
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "error",
                                  "warning", "success") for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


# That every role opens every page it is routed to, without an exception or an access
# refusal, is asserted by tests/pages/test_display_sweep.py on the same renders.


@pytest.mark.parametrize("page", PAGES)
def test_cold_deep_link_without_sign_in_shows_only_the_sign_in_form(demo_db, monkeypatch, page):
    at = app_test(demo_db.url, monkeypatch, role=None, page=page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [SIGN_IN_TITLE]
    assert at.text_input(key="sign_in_email") is not None
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
    assert not at.sidebar.button  # no sign-out: nobody is signed in


@pytest.mark.parametrize("role", ROLES)
def test_router_opens_home_with_only_the_pages_the_role_may_use(demo_db, monkeypatch, role):
    at = app_test(demo_db.url, monkeypatch, role=role)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Home"]


@pytest.mark.parametrize("capability", ["leaderboard.identities", "content.edit", "feedback.moderate",
                                        "staff.manage"])
@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_guard_refuses_a_role_without_the_capability(demo_db, monkeypatch, role, capability):
    at = _guarded_script(demo_db, monkeypatch, role, capability)
    at.run()
    assert any("do not have access" in e.value for e in at.error)
    assert "SECRET CONTENT" not in _texts(at)


def test_guard_lets_the_right_role_through(demo_db, monkeypatch):
    at = _guarded_script(demo_db, monkeypatch, "admin", "leaderboard.identities")
    at.run()
    assert "SECRET CONTENT" in _texts(at)


def _guarded_script(demo_db, monkeypatch, role, capability):
    monkeypatch.setenv("DATABASE_URL", demo_db.url)
    import streamlit as st

    st.cache_resource.clear()
    script = ("from core import ui\nimport streamlit as st\n"
              f"actor = ui.guard({capability!r})\nst.markdown('SECRET CONTENT')\n")
    at = AppTest.from_string(script, default_timeout=30)
    engine = make_engine(demo_db.url)
    actor = staff_actor(engine, role)
    engine.dispose()
    at.session_state["ngi_actor_id"] = actor.id
    at.session_state["ngi_actor_role"] = actor.role
    return at


def test_deactivated_account_is_sent_back_to_sign_in(demo_db, monkeypatch):
    engine = make_engine(demo_db.url)
    staff_actor(engine, "instructor", email="leaving@test.ngi")
    at = app_test(demo_db.url, monkeypatch, role=None, page="home")
    actor = staff_actor(engine, "instructor", email="leaving@test.ngi")
    at.session_state["ngi_actor_id"] = actor.id
    at.session_state["ngi_actor_role"] = actor.role
    auth.deactivate_staff(engine, actor=auth.system_actor(engine), email="leaving@test.ngi")
    engine.dispose()
    at.run()
    assert [t.value for t in at.title] == [SIGN_IN_TITLE]


def test_sign_in_wrong_password_then_right_one_then_sign_out(demo_db, monkeypatch):
    engine = make_engine(demo_db.url)
    staff_actor(engine, "program_lead", email="lead@test.ngi")  # password "correct horse battery"
    engine.dispose()
    at = app_test(demo_db.url, monkeypatch, role=None)
    at.run()
    at.text_input(key="sign_in_email").input("lead@test.ngi")
    at.text_input(key="sign_in_password").input("wrong password!")
    at.button(key="sign_in_submit").click().run()
    assert [e.value for e in at.error] == [auth.REFUSAL]
    assert "ngi_actor_id" not in at.session_state

    at.text_input(key="sign_in_email").input("lead@test.ngi")
    at.text_input(key="sign_in_password").input("correct horse battery")
    at.button(key="sign_in_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Home"]
    assert at.session_state["ngi_actor_role"] == "program_lead"

    at.sidebar.button(key="sign_out").click().run()
    assert "ngi_actor_id" not in at.session_state and "ngi_actor_role" not in at.session_state
    assert [t.value for t in at.title] == [SIGN_IN_TITLE]


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-cookie-secret-0123456789",
        "client_id": "ngi", "client_secret": "secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


def _oidc_app(demo_db, monkeypatch, email, **claims):
    at = app_test(demo_db.url, monkeypatch, role=None)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": email is not None, "email": email, **claims}
    return at


def test_oidc_offers_the_provider_button_to_signed_out_visitors(demo_db, monkeypatch):
    at = _oidc_app(demo_db, monkeypatch, None)
    at.run()
    assert [t.value for t in at.title] == [SIGN_IN_TITLE]
    assert "oidc_login" in {b.key for b in at.button}


def test_oidc_identity_of_a_staff_member_signs_in_and_sign_out_ends_it(demo_db, monkeypatch):
    engine = make_engine(demo_db.url)
    staff_actor(engine, "admin", email="oidc.admin@test.ngi")
    engine.dispose()
    at = _oidc_app(demo_db, monkeypatch, "OIDC.Admin@test.ngi", email_verified=True)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Home"] and at.session_state["ngi_actor_role"] == "admin"
    at.sidebar.button(key="sign_out").click().run()
    assert "ngi_actor_id" not in at.session_state
    assert [t.value for t in at.title] == [SIGN_IN_TITLE]


def test_oidc_identity_without_a_staff_account_is_refused(demo_db, monkeypatch):
    at = _oidc_app(demo_db, monkeypatch, "stranger@example.org", email_verified=True)
    at.run()
    assert any("not a staff account" in e.value for e in at.error)
    assert "oidc_logout" in {b.key for b in at.button}
    assert "ngi_actor_id" not in at.session_state and "Home" not in [t.value for t in at.title]
