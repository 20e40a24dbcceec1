"""End to end in headless Chromium: the real server (serve.py, as scripts/app runs it)
on a free port over a fresh SQLite database migrated and seeded with a demo cohort by
the real CLI (the shared `server` and `browser` fixtures, tests/e2e/conftest.py); each
demo role signs in through the form and opens every page; no exception box, the page's
heading present, and a screenshot of each page (kept in $NGI_E2E_SCREENSHOTS if set,
else in tmp)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from core import auth

# Sidebar label (app.py) -> a heading the page must show.
PAGES = {
    "Home": "Home", "Content": "Content", "Company packages": None, "Submission review": None,
    "Feedback moderation": None, "Leaderboard": "Leaderboard", "Analytics": None,
}

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("NGI_E2E_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _settle(page) -> None:
    """Wait for the script run to finish: the status widget shows while it runs."""
    page.wait_for_timeout(300)
    with contextlib.suppress(Exception):  # an absent widget means nothing is running
        page.wait_for_selector('[data-testid="stStatusWidget"]', state="hidden", timeout=30_000)
    page.wait_for_timeout(500)


@pytest.mark.parametrize("email, role", [(e, r) for e, _, r in auth.DEMO_ACCOUNTS])
def test_each_demo_role_signs_in_and_opens_every_page(server, browser, shots, email, role):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server, wait_until="domcontentloaded")
        page.get_by_text("Demo mode: sign in as").wait_for(timeout=60_000)  # credentials shown
        page.get_by_role("textbox", name="Email").fill(email)
        page.get_by_role("textbox", name="Password").fill(auth.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.locator('[data-testid="stMain"] h1', has_text="Home").wait_for(timeout=60_000)
        _settle(page)
        for label, heading in PAGES.items():
            page.locator('[data-testid="stSidebarNav"] a', has_text=label).first.click()
            main = page.locator('[data-testid="stMain"]')
            title = main.locator("h1", has_text=heading) if heading else main.locator("h1")
            title.first.wait_for(timeout=60_000)
            _settle(page)
            slug = label.lower().replace(" ", "_")
            page.screenshot(path=str(shots / f"{role}_{slug}.png"), full_page=True)
            exceptions = page.locator('[data-testid="stException"]')
            assert exceptions.count() == 0, f"{role} on {label}: {exceptions.first.inner_text()[:500]}"
            assert main.locator("h1").first.inner_text() != "NGI Learning — staff sign-in"
        page.locator('[data-testid="stSidebar"] button', has_text="Sign out").click()
        page.get_by_role("textbox", name="Email").wait_for(timeout=30_000)
    finally:
        context.close()


def test_clicking_a_funnel_bar_lists_the_students_behind_it(server, browser, shots):
    email = next(e for e, _, r in auth.DEMO_ACCOUNTS if r == "program_lead")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(server, wait_until="domcontentloaded")
        page.get_by_role("textbox", name="Email").fill(email)
        page.get_by_role("textbox", name="Password").fill(auth.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.locator('[data-testid="stMain"] h1', has_text="Home").wait_for(timeout=60_000)
        _settle(page)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Analytics").first.click()
        main = page.locator('[data-testid="stMain"]')
        main.locator("h1", has_text="Analytics").wait_for(timeout=60_000)
        _settle(page)
        main.locator("button", has_text="Activity funnel").first.click()
        main.locator("h3", has_text="Activity funnel").wait_for(timeout=60_000)
        _settle(page)
        bar = main.locator(".js-plotly-plot .bars .point path").first
        bar.wait_for(timeout=60_000)
        bar.click(force=True)
        main.get_by_text("student(s) behind").first.wait_for(timeout=60_000)
        _settle(page)
        page.screenshot(path=str(shots / "funnel_drilldown.png"), full_page=True)
        assert main.locator('[data-testid="stException"]').count() == 0
        assert "“Lesson viewed”" in main.get_by_text("student(s) behind").first.inner_text()
    finally:
        context.close()
