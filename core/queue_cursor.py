"""The open item of a paged, selectable queue table (the review and moderation workstations).

Plain logic over a page's session state (any mutable mapping, `st.session_state` on a
page), so it stays free of streamlit. Keys are `<prefix>_<name>`; the table's own key is
`<prefix>_queue` and its page number input's `<prefix>_page`.

- A new filter opens its first item on page 1.
- A row clicked in the table opens, once: the click stays in the table's state, and
  navigation wins over it afterwards.
- An item that leaves the view (graded under "needs review", released under "held")
  gives way to the item that took its place, or, with `keep_outside`, stays open while
  Next goes on from where it was.
- Previous / Next follow the filtered order (`ids`), and the table's page follows the item.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class QueueCursor:
    state: MutableMapping[str, Any]
    prefix: str
    ids: list[int]  # the whole filtered queue, in its order
    current: int | None
    here: int  # the current item's place in `ids`, or where it was before it left the view
    page: int  # 1-based
    page_count: int
    rows: Any  # the table's page, as `load_page` gave it

    @property
    def position(self) -> int | None:
        """1-based place of the open item in the view; None when it has left the view."""
        return self.ids.index(self.current) + 1 if self.current in self.ids else None

    def forget_click(self) -> None:
        """The table's row click no longer applies (its rows changed or navigation moved on)."""
        forget_click(self.state, self.prefix)

    def go(self, item_id: int | None) -> None:
        go(self.state, self.prefix, item_id)

    def step(self, delta: int) -> None:
        """Previous (-1) / Next (+1). Outside the view, the item that took the open
        item's place is "next" and the one before it "previous"."""
        if not self.ids:
            return
        inside = self.state.get(f"{self.prefix}_current") in self.ids
        target = self.here + delta if inside else (self.here if delta > 0 else self.here - 1)
        self.go(self.ids[max(0, min(len(self.ids) - 1, target))])


def forget_click(state: MutableMapping[str, Any], prefix: str) -> None:
    state.pop(f"{prefix}_queue", None)
    state.pop(f"{prefix}_clicked", None)


def go(state: MutableMapping[str, Any], prefix: str, item_id: int | None) -> None:
    """Open an item; the table's page follows it on the next run."""
    if item_id is not None:
        state[f"{prefix}_current"], state[f"{prefix}_follow"] = item_id, True
        forget_click(state, prefix)


def _clicked_rows(state: MutableMapping[str, Any], prefix: str) -> list[int]:
    selection = (state.get(f"{prefix}_queue") or {}).get("selection") or {}
    return list(selection.get("rows") or [])


def cursor(state: MutableMapping[str, Any], prefix: str, *, ids: Sequence[int], filters: Hashable,
           page_size: int, load_page: Callable[[int], Any], row_ids: Callable[[Any], list[int]],
           keep_outside: bool = False) -> QueueCursor:
    """Work out this run's open item and table page; call before the table and the page
    number input are drawn (it sets their state)."""
    def key(name: str) -> str:
        return f"{prefix}_{name}"

    ids = list(ids)
    if state.get(key("filters")) != filters:  # a new view opens on its first item
        state.update({key("filters"): filters, key("position"): 0, key("page"): 1})
        state.pop(key("current"), None)
        forget_click(state, prefix)
    page_count = max(1, -(-len(ids) // page_size))
    page = min(state.get(key("page"), 1), page_count)
    rows = load_page(page)
    on_page = row_ids(rows)
    clicked = _clicked_rows(state, prefix)
    if clicked and clicked != state.get(key("clicked")) and clicked[0] < len(on_page):
        state[key("clicked")], state[key("current")] = clicked, on_page[clicked[0]]
    current = state.get(key("current"))
    if ids and (current is None or (current not in ids and not keep_outside)):
        go(state, prefix, ids[min(state.get(key("position"), 0), len(ids) - 1)])
        current = state[key("current")]
    elif not ids and not keep_outside:
        current = None
    if current in ids:
        state[key("position")] = ids.index(current)
    here = state.get(key("position"), 0)
    if state.pop(key("follow"), False) and current in ids and here // page_size + 1 != page:
        page = here // page_size + 1  # Previous / Next crossed a page boundary: the table follows
        rows = load_page(page)
    state[key("page")] = page
    return QueueCursor(state, prefix, ids, current, here, page, page_count, rows)
