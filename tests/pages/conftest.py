"""Fixtures the page tests share: the seeded demo cohort and a page opened through AppTest."""

from __future__ import annotations

import pytest

from tests.pages.demo_cohort import DemoDB, demo_database
from tests.support import app_test


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_db(request, tmp_path_factory) -> DemoDB:
    """The 40-student demo cohort, seeded once per test module on each engine."""
    return demo_database(request, tmp_path_factory)


@pytest.fixture
def open_page(monkeypatch):
    """`open_page(page, db_url, role)`: pages/<page>.py run once through AppTest, signed in
    as a staff member of `role`, having raised nothing."""

    def open_(page: str, db_url: str, role: str):
        at = app_test(db_url, monkeypatch, role=role, page=page)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_
