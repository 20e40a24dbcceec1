"""The queue cursor on a plain dict: what a reviewer sees happen to the open item and the
table's page as they click rows, page, navigate, and as items leave the view."""

from __future__ import annotations

from core.queue_cursor import cursor

IDS = list(range(100, 105))  # five items, two per page


def _run(state, ids=IDS, filters="needs review", keep_outside=False):
    return cursor(state, "q", ids=ids, filters=filters, page_size=2, keep_outside=keep_outside,
                  load_page=lambda n: ids[(n - 1) * 2:n * 2], row_ids=list)


def test_opens_the_first_item_and_a_click_opens_its_row_once():
    state: dict = {}
    q = _run(state)
    assert (q.current, q.page, q.page_count, q.rows) == (100, 1, 3, [100, 101])
    state["q_queue"] = {"selection": {"rows": [1]}}
    assert _run(state).current == 101
    q = _run(state)
    q.step(-1)  # navigation wins over the click still held in the table's state
    q = _run(state)
    assert q.current == 100 and "q_queue" not in state


def test_next_crosses_the_page_boundary_and_the_table_follows():
    state: dict = {}
    q = _run(state)
    q.step(1)
    q = _run(state)
    q.step(1)
    q = _run(state)
    assert (q.current, q.page, q.rows, q.position) == (102, 2, [102, 103], 3)
    state["q_page"] = 3  # paging the table alone leaves the item open
    assert _run(state).current == 102


def test_an_item_leaving_the_view_gives_way_to_the_next_or_stays_open():
    state: dict = {}
    _run(state).step(1)
    assert _run(state).current == 101
    q = _run(state, ids=[100, 102, 103, 104])  # 101 was released
    assert q.current == 102
    kept: dict = {}
    _run(kept, keep_outside=True).step(1)
    _run(kept, keep_outside=True)
    q = _run(kept, ids=[100, 102, 103, 104], keep_outside=True)  # 101 was graded
    assert q.current == 101 and q.position is None
    q.step(1)
    assert _run(kept, ids=[100, 102, 103, 104], keep_outside=True).current == 102


def test_a_new_filter_opens_its_first_item_on_page_one():
    state: dict = {}
    q = _run(state)
    q.step(1)
    _run(state)
    q = _run(state, ids=[103, 104], filters="graded")
    assert (q.current, q.page) == (103, 1)
