"""Sessions that survive the browser, in headless Chromium against the app as
scripts/app serves it (serve.py: Streamlit plus the sign-in/sign-out routes) on the e2e
demo database (tests/e2e/conftest.py): a reload and a new tab stay signed in on their page, a deep link signs
in and lands on that page, signing out in one tab signs the other out at its next
action, and an idle session (NGI_SESSION_IDLE_TIMEOUT made tiny) asks to sign in again
and then returns to the page. Also: no Deploy button or developer menu."""

from __future__ import annotations

import contextlib
import time

import pytest

from core import auth

SIGN_IN_TITLE = "NGI Learning — staff sign-in"
IDLE_SECONDS = 15  # long enough for a page to load on a busy machine, short enough to wait out
EMAIL = "instructor@demo.ngi"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def idle_server(start_server):
    return start_server("idle-server", NGI_SESSION_IDLE_TIMEOUT=f"{IDLE_SECONDS}s")


@pytest.fixture(scope="module", autouse=True)
def idle_page(idle_server, browser):
    """A tab signed in on the idle-timeout server (review page) before this module's first
    test and then left alone in its own browser context, so the idle test waits only what
    is left of the timeout instead of all of it. Yields (page, when it was last used)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(f"{idle_server}/review", wait_until="domcontentloaded")
    _sign_in(page)
    _heading(page, "Submission review").wait_for(timeout=60_000)
    _settle(page)
    yield page, time.monotonic()
    ctx.close()


def _settle(page) -> None:
    page.wait_for_timeout(300)
    with contextlib.suppress(Exception):  # an absent widget means nothing is running
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="hidden", timeout=30_000)
    page.wait_for_timeout(300)


def _heading(page, text: str):
    return page.locator('[data-testid="stMain"] h1', has_text=text).first


def _sign_in(page, email: str = EMAIL) -> None:
    _heading(page, SIGN_IN_TITLE).wait_for(timeout=60_000)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(auth.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _signed_in_as(page) -> str:
    caption = page.locator('[data-testid="stSidebar"]', has_text="Signed in as")
    caption.first.wait_for(timeout=60_000)
    return caption.first.inner_text()


def _open(page, label: str, heading: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=label).first.click()
    _heading(page, heading).wait_for(timeout=60_000)
    _settle(page)


def test_sign_in_then_reload_and_a_new_tab_stay_signed_in_on_their_page(server, context):
    page = context.new_page()
    page.goto(server, wait_until="domcontentloaded")
    _sign_in(page)
    _heading(page, "Home").wait_for(timeout=60_000)
    assert "Ian Instructor" in _signed_in_as(page)
    _open(page, "Submission review", "Submission review")
    assert page.url.endswith("/review")

    page.reload(wait_until="domcontentloaded")
    _heading(page, "Submission review").wait_for(timeout=60_000)
    _settle(page)
    assert page.url.endswith("/review") and "Ian Instructor" in _signed_in_as(page)
    assert _heading(page, SIGN_IN_TITLE).count() == 0

    tab = context.new_page()
    tab.goto(f"{server}/review", wait_until="domcontentloaded")
    _heading(tab, "Submission review").wait_for(timeout=60_000)
    assert "Ian Instructor" in _signed_in_as(tab)

    # The cookie is the server's: HttpOnly (scripts cannot read it), SameSite=Lax, and
    # the token is in no URL the browser visited.
    [cookie] = [c for c in context.cookies() if c["name"] == "ngi_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "ngi_session" not in page.evaluate("document.cookie")
    assert cookie["value"] not in page.url + tab.url

    # Staff chrome: no Deploy button, no developer entries in the menu.
    assert page.get_by_role("button", name="Deploy").count() == 0
    page.locator('[data-testid="stMainMenu"]').click()
    page.wait_for_timeout(500)
    assert page.get_by_text("Clear cache").count() == 0
    assert page.get_by_text("Developer options").count() == 0


def test_deep_link_signs_in_and_lands_on_the_page_asked_for(server, context):
    page = context.new_page()
    page.goto(f"{server}/leaderboard", wait_until="domcontentloaded")
    _heading(page, SIGN_IN_TITLE).wait_for(timeout=60_000)
    assert page.get_by_text("Page not found").count() == 0
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Sign-in refused").wait_for(timeout=60_000)  # the refusal is shown...
    _sign_in(page)  # ...and the form is there to try again
    _heading(page, "Leaderboard").wait_for(timeout=60_000)
    assert page.url.split("?")[0].endswith("/leaderboard")
    assert "Ian Instructor" in _signed_in_as(page)


def test_sign_out_in_one_tab_signs_the_other_out_at_its_next_action(server, context):
    first = context.new_page()
    first.goto(f"{server}/review", wait_until="domcontentloaded")
    _sign_in(first)
    _heading(first, "Submission review").wait_for(timeout=60_000)
    second = context.new_page()
    second.goto(f"{server}/leaderboard", wait_until="domcontentloaded")
    _heading(second, "Leaderboard").wait_for(timeout=60_000)
    _settle(second)

    first.locator('[data-testid="stSidebar"] button', has_text="Sign out").click()
    _heading(first, SIGN_IN_TITLE).wait_for(timeout=60_000)

    _open(second, "Home", SIGN_IN_TITLE)  # its next action
    second.get_by_text("Your session has ended").wait_for(timeout=30_000)
    assert second.locator('[data-testid="stSidebar"]', has_text="Signed in as").count() == 0


def test_after_idle_expiry_the_sign_in_form_appears_and_signing_in_returns_to_the_page(idle_page):
    page, last_used = idle_page  # signed in on the review page, untouched since last_used
    idle_for = time.monotonic() - last_used
    page.wait_for_timeout(max(0.0, IDLE_SECONDS + 3 - idle_for) * 1000)  # idle past the timeout
    assert _heading(page, "Submission review").count() == 1  # nothing ran meanwhile
    page.locator('[data-testid="stSidebarNav"] a', has_text="Leaderboard").first.click()
    _heading(page, SIGN_IN_TITLE).wait_for(timeout=60_000)
    page.get_by_text("Your session has ended").wait_for(timeout=30_000)

    _sign_in(page)
    _heading(page, "Leaderboard").wait_for(timeout=60_000)
    assert page.url.split("?")[0].endswith("/leaderboard")
    assert "Ian Instructor" in _signed_in_as(page)
