"""End to end in headless Chromium at 1440×900: the demo instructor opens the first
"needs review" item from the queue table, grades it with the keyboard, presses "Save
and next ungraded"; the grade is stored, the view moved to the next ungraded item and
the confirmation is visible in the viewport."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import auth
from core.db import make_engine, session_scope
from core.models import LearningGrade
from tests.e2e.test_browser import _settle

pytestmark = pytest.mark.e2e
WIDTH, HEIGHT = 1440, 900
COMMENT = "Keyboard-graded in the browser test."


def _in_viewport(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT and box["x"] + box["width"] <= WIDTH


def _tab_to_input(page) -> None:
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("['INPUT', 'TEXTAREA'].includes(document.activeElement.tagName)"):
            return
    raise AssertionError("Tab did not reach the next field of the grade form")


def test_instructor_grades_with_the_keyboard_and_moves_to_the_next_ungraded(server, browser, demo_env):
    email = next(e for e, _, role in auth.DEMO_ACCOUNTS if role == "instructor")
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    try:
        page.goto(server, wait_until="domcontentloaded")
        page.get_by_role("textbox", name="Email").fill(email)
        page.get_by_role("textbox", name="Password").fill(auth.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.locator('[data-testid="stMain"] h1', has_text="Home").wait_for(timeout=60_000)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Submission review").first.click()
        page.locator('[data-testid="stMain"] h1', has_text="Submission review").wait_for(timeout=60_000)
        _settle(page)
        main = page.locator('[data-testid="stMain"]')

        # Open the first row of the queue table (its row-selection cell).
        table = main.locator('[data-testid="stDataFrame"]').first
        box = table.bounding_box()
        page.mouse.click(box["x"] + 14, box["y"] + 36 + 18)
        _settle(page)
        heading = main.locator("h3").first.inner_text()

        save_next = main.get_by_role("button", name="Save and next ungraded")
        assert _in_viewport(save_next), "the grade form's primary action needs scrolling at 1440×900"

        main.locator("h1").first.click()  # focus on the page, not in a field
        page.keyboard.press("g")
        page.keyboard.type("80")
        for score in ("60", "70", "90"):
            _tab_to_input(page)
            page.keyboard.press("Control+A")
            page.keyboard.type(score)
        _tab_to_input(page)
        page.keyboard.type(COMMENT)
        save_next.click()
        _settle(page)

        toast = page.locator('[data-testid="stToast"]').first
        toast.wait_for(timeout=30_000)
        assert "Grade saved" in toast.inner_text() and _in_viewport(toast)
        assert main.locator("h3").first.inner_text() != heading  # moved on to the next ungraded item
        fields = main.locator('[data-testid="stForm"] input')
        assert [fields.nth(i).input_value() for i in range(4)] == ["", "", "", ""]  # a fresh form
    finally:
        context.close()

    # The server's database: NGI_DATA_DIR/ngi.db (tests/e2e/conftest.py).
    engine = make_engine(f"sqlite:///{demo_env['NGI_DATA_DIR']}/ngi.db")
    with session_scope(engine) as session:
        grade = session.scalar(select(LearningGrade).where(LearningGrade.comment == COMMENT))
        assert grade is not None and grade.state == "graded" and float(grade.overall_score) > 0
    engine.dispose()
