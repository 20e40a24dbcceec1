"""The sign-in and sign-out routes (core/web.py) over HTTP, on both engines: the cookie
they set (HttpOnly, SameSite=Lax, Secure over HTTPS, token never in a URL), the page
they send the browser back to (never another site), refusals, and cross-site POSTs."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from core import staff_sessions, web
from tests.support import staff_actor

PASSWORD = "correct horse battery"


@pytest.fixture
def client(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(web, "_mounted", False)  # restored after: AppTest tests expect the Streamlit form
    staff_actor(engine, "instructor", email="ivy@test.ngi")
    app = Starlette(routes=web.routes())
    with TestClient(app, base_url="http://dash.test", follow_redirects=False) as test_client:
        yield test_client
    web._engine.cache_clear()


def _sign_in(client, password=PASSWORD, next_page="/review", **headers):
    return client.post(web.SIGN_IN_PATH, data={"email": "ivy@test.ngi", "password": password, "next": next_page},
                       headers=headers)


def test_sign_in_sets_an_httponly_lax_cookie_and_returns_to_the_page(client, engine):
    reply = _sign_in(client, **{"Origin": "http://dash.test", "Sec-Fetch-Site": "same-origin"})
    assert reply.status_code == 303 and reply.headers["location"] == "/review"
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("ngi_session=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie and "Secure" not in cookie and "Max-Age=604800" in cookie
    token = reply.cookies["ngi_session"]
    assert token not in reply.headers["location"]
    assert staff_sessions.resume(engine, token).email == "ivy@test.ngi"


def test_over_https_the_cookie_is_secure(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setattr(web, "_mounted", False)
    staff_actor(engine, "instructor", email="ivy@test.ngi")
    with TestClient(Starlette(routes=web.routes()), base_url="https://dash.test", follow_redirects=False) as client:
        reply = _sign_in(client)
    web._engine.cache_clear()
    assert "Secure" in reply.headers["set-cookie"]


def test_a_refused_sign_in_says_so_on_the_page_and_sets_no_cookie(client):
    reply = _sign_in(client, password="wrong password!")
    assert reply.status_code == 303 and reply.headers["location"] == "/review?sign_in=refused"
    assert "set-cookie" not in reply.headers


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "javascript:alert(1)", "/\\evil",
                                    ""])
def test_next_is_always_a_path_on_this_site(client, target):
    assert _sign_in(client, next_page=target).headers["location"] == "/"


def test_a_cross_site_post_is_refused(client, engine):
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        reply = _sign_in(client, **headers)
        assert reply.status_code == 403 and "set-cookie" not in reply.headers
    reply = client.post(web.SIGN_OUT_PATH, data={"next": "/"}, headers={"Origin": "https://evil.example"})
    assert reply.status_code == 403


def test_sign_out_revokes_the_session_and_clears_the_cookie(client, engine):
    token = _sign_in(client).cookies["ngi_session"]
    client.cookies.set("ngi_session", token)
    reply = client.post(web.SIGN_OUT_PATH, data={"next": "/"})
    assert reply.status_code == 303 and reply.headers["location"] == "/"
    assert reply.headers["set-cookie"].startswith('ngi_session=""') or "Max-Age=0" in reply.headers["set-cookie"]
    assert staff_sessions.resume(engine, token) is None


def test_signing_in_again_ends_the_session_the_browser_held(client, engine):
    old = _sign_in(client).cookies["ngi_session"]
    client.cookies.set("ngi_session", old)
    new = _sign_in(client).cookies["ngi_session"]
    assert new != old
    assert staff_sessions.resume(engine, old) is None and staff_sessions.resume(engine, new) is not None


def test_the_routes_take_only_posts(client):
    assert client.get(web.SIGN_IN_PATH).status_code == 405
