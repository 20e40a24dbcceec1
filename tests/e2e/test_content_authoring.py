"""In headless Chromium, an admin creates a lesson, moves it to another unit, publishes it
and sees it in the tree (the shared server and browser fixtures, tests/e2e/conftest.py)."""

from __future__ import annotations

import pytest

from core import auth
from tests.e2e.test_browser import _settle

pytestmark = pytest.mark.e2e


def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the select labelled `label`; a click during a rerun can be lost,
    so the list is opened again until the option shows."""
    choice = page.get_by_role("option", name=option, exact=True)
    for _attempt in range(4):
        page.get_by_role("combobox", name=label, exact=True).click()
        try:
            choice.wait_for(timeout=5_000)
            break
        except Exception:  # noqa: BLE001 - the list did not open; try again
            page.keyboard.press("Escape")
            _settle(page)
    choice.click()
    _settle(page)


def test_admin_creates_moves_and_publishes_a_lesson(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    try:
        page.goto(server, wait_until="domcontentloaded")
        page.get_by_role("textbox", name="Email").fill("admin@demo.ngi")
        page.get_by_role("textbox", name="Password").fill(auth.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.locator('[data-testid="stMain"] h1', has_text="Home").wait_for(timeout=60_000)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Content").first.click()
        page.locator('[data-testid="stMain"] h1', has_text="Content").wait_for(timeout=60_000)
        _settle(page)

        page.get_by_role("tab", name="Outline").click()
        _settle(page)
        _choose(page, "Type", "lesson")
        _choose(page, "Inside", "Accounting I › The three statements")
        page.get_by_role("textbox", name="Title", exact=True).fill("Leveraged buyouts")
        page.get_by_role("textbox", name="Key", exact=True).fill("l10_lbo")
        page.get_by_role("button", name="Create as draft").click()
        page.get_by_text("Leveraged buyouts created as a draft.").wait_for(timeout=30_000)
        _settle(page)

        _choose(page, "Item", "Accounting I › The three statements › Leveraged buyouts")
        # the details line: "**Leveraged buyouts** · Lesson · Draft · …" (keys stay internal)
        details = page.locator('[data-testid="stMarkdownContainer"] p',
                               has=page.locator("strong", has_text="Leveraged buyouts"))
        details.first.wait_for(timeout=30_000)
        _settle(page)  # the rerun still drawing shows the old and the new tabs side by side
        page.get_by_role("tab", name="Outline").click()
        _settle(page)
        _choose(page, "Move to", "Finance & Valuation › Valuation")
        page.get_by_role("button", name="Move", exact=True).click()
        page.get_by_text("Leveraged buyouts moved.").wait_for(timeout=30_000)
        _settle(page)

        page.get_by_role("tab", name="Edit").click()
        page.get_by_role("button", name="Publish", exact=True).click()
        page.get_by_text("Leveraged buyouts is published.").wait_for(timeout=30_000)
        _settle(page)
        main = page.locator('[data-testid="stMain"]')
        # the item now sits under Valuation in the tree, and is published
        page.get_by_role("tab", name="Outline").click()
        main.get_by_text("Currently in: Finance & Valuation › Valuation (position 4 of 4)").wait_for(timeout=30_000)
        assert "Published" in details.first.inner_text(), details.first.inner_text()
        assert page.locator('[data-testid="stException"]').count() == 0
    except Exception:
        page.screenshot(path="/tmp/content_e2e_fail.png", full_page=True)
        raise
    finally:
        context.close()
