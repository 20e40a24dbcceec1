"""Both queues are paged on the demo cohort: the table pages past page 1 without moving the
open item, a click on page 2 opens that row, and Previous / Next follow the filtered order
across the page boundary with the table's page following the item."""

from __future__ import annotations

import pytest

from tests.support import app_test


def _ids(at, key: str, column: str) -> list[int]:
    table = next(d for d in at.dataframe if d.key == key)
    return [int(i) for i in table.value[column]]


@pytest.fixture
def page(demo_db, monkeypatch):
    monkeypatch.setenv("NGI_DATA_DIR", str(demo_db.data_dir))

    def open_(name: str, **state):
        at = app_test(demo_db.url, monkeypatch, role="admin", page=name)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        assert not at.exception, at.exception
        return at

    return open_


@pytest.mark.parametrize(("name", "table", "column", "prefix", "state", "size"), [
    ("review", "rv_queue", "ID", "rv", {}, 25),                      # "Needs review"
    ("moderation", "mod_queue", "id", "mod", {"mod_state": "released"}, 20),  # a filter, not all
])
def test_queue_pages_and_navigation_crosses_the_page_boundary(page, name, table, column, prefix, state, size):
    at = page(name, **state)
    first = _ids(at, table, column)
    assert len(first) == size, "the demo cohort fills more than one page"
    at.number_input(key=f"{prefix}_page").set_value(2).run()
    second = _ids(at, table, column)
    assert second and not set(first) & set(second)
    assert at.session_state[f"{prefix}_current"] == first[0]  # paging the table leaves the item open

    at.session_state[table] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert at.session_state[f"{prefix}_current"] == second[0]

    at.button(key=f"{prefix}_prev").click().run()  # back across the boundary: the table follows
    assert at.session_state[f"{prefix}_current"] == first[-1]
    assert at.number_input(key=f"{prefix}_page").value == 1 and _ids(at, table, column) == first
    at.button(key=f"{prefix}_next").click().run()
    assert at.session_state[f"{prefix}_current"] == second[0]
    assert at.number_input(key=f"{prefix}_page").value == 2 and _ids(at, table, column) == second
    at.button(key=f"{prefix}_next").click().run()
    assert at.session_state[f"{prefix}_current"] == second[1]  # the filtered order, not every submission
