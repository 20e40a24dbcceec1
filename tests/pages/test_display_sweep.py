"""Every page, for every role, on the demo cohort: nothing a person reads is "None",
"NaN", a UTC offset, "(s)", a role key or a raw content key.

The sweep walks the rendered element tree: titles, markdown, captions, alerts, metric
labels and values, widget labels and options, tab and expander labels, dataframe column
labels and cells (a missing cell is fine only where the table shows a placeholder), and
the titles and hover texts of Plotly charts.
"""

from __future__ import annotations

import json
import re

import pytest

from core import catalogue
from core.display import catalogue_titles
from tests.support import SIGN_IN_TITLE, app_test

ZONE = "America/New_York"
ROLES = ["admin", "instructor", "program_lead"]
PAGES = ["home", "content", "packages", "leaderboard", "analytics", "review", "moderation"]

# Keys with an underscore cannot be English words ("capstone" can).
CONTENT_KEYS = sorted((k for k in catalogue_titles() if "_" in k), key=len, reverse=True)
assert "a1_drivers_map" in CONTENT_KEYS and catalogue.activity_keys()
BAD = re.compile(
    r"\bNone\b|\bNaN\b|\bnan\b|\bNaT\b|[+-]\d\d:\d\d\b|\(s\)|\bprogram_lead\b|\bproject_lead\b"
    r"|\b(?:" + "|".join(map(re.escape, CONTENT_KEYS)) + r")\b"
)


def _strings(value) -> list[str]:
    if value is None:
        return ["None"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, set)):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def _table_texts(element) -> list[str]:
    frame = element.value
    config = json.loads(element.proto.columns or "{}")
    hidden = {name for name, c in config.items() if isinstance(c, dict) and c.get("hidden")}
    order = list(element.proto.column_order) or None
    shown = [c for c in frame.columns if str(c) not in hidden and (order is None or str(c) in order)]
    texts = []
    for column in shown:
        label = (config.get(str(column)) or {}).get("label") if isinstance(config.get(str(column)), dict) else None
        texts.append(f"column {label or column}")
        for cell in frame[column]:
            if isinstance(cell, (list, tuple)):
                texts.extend(f"cell {c}" for c in cell)
            elif _missing(cell):
                if not element.proto.placeholder:
                    texts.append(f"cells of {column}: None")
                    break
            elif isinstance(cell, str):
                texts.append(f"cell {cell}")
            elif getattr(cell, "tzinfo", None) is not None and str(cell.tzinfo) != ZONE \
                    and not _zoned(config.get(str(column))):
                # Shown in UTC unless the column converts it to the program's zone.
                texts.append(f"cells of {column} in UTC, e.g. {cell.isoformat()}")
                break
    return texts


def _zoned(column_config) -> bool:
    type_config = (column_config or {}).get("type_config") or {} if isinstance(column_config, dict) else {}
    return bool(type_config.get("timezone"))


def _missing(cell) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(cell))
    except (TypeError, ValueError):
        return False


def _chart_texts(element) -> list[str]:
    spec = json.loads(element.proto.spec or "{}")
    texts = []
    layout = spec.get("layout", {})
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis", "coloraxis")) and isinstance(axis, dict):
            title = axis.get("title")
            title = title.get("text") if isinstance(title, dict) else title
            if title:
                texts.append(f"axis {title}")
                if re.fullmatch(r"[a-z]+(_[a-z]+)+", title):
                    texts.append(f"axis titled with a column name: {title}")
    for trace in spec.get("data", []):
        for key in ("hovertemplate", "name"):
            if trace.get(key):
                texts.append(f"chart {key} {trace[key]}")
    return texts


def visible_texts(at) -> list[str]:
    texts: list[str] = []

    def visit(node):
        kind = getattr(node, "type", "")
        if kind == "dataframe":
            texts.extend(_table_texts(node))
        elif kind == "plotly_chart":
            texts.extend(_chart_texts(node))
        else:
            for attr in ("label", "value", "body", "options", "help", "placeholder", "caption"):
                try:
                    value = getattr(node, attr)
                except Exception:  # noqa: BLE001 - not every node has every attribute
                    continue
                if value is None or callable(value) or (attr == "value" and kind not in (
                        "markdown", "caption", "title", "header", "subheader", "text", "metric", "alert",
                        "info", "warning", "success", "error", "exception", "code")):
                    continue
                texts.extend(f"{kind} {attr} {s}" for s in _strings(value))
            if kind == "metric":
                texts.extend(f"metric label {node.proto.label}" for _ in [0])
        for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []:
            visit(child)

    visit(at._tree)
    return texts


def offending(at) -> list[str]:
    # The test accounts are named after their role key ("Test program_lead"): a name, not a label.
    names = re.compile(r"Test (?:" + "|".join(ROLES) + ")")
    return sorted({t for t in visible_texts(at) if BAD.search(names.sub("Test staff", t))})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_pages_speak_peoples_language(demo_db, monkeypatch, page, role):
    """Also the access check that every role opens every page it is routed to (one render
    per page, role and engine serves both)."""
    monkeypatch.setenv("NGI_TIMEZONE", ZONE)
    monkeypatch.setenv("NGI_DATA_DIR", str(demo_db.data_dir))
    at = app_test(demo_db.url, monkeypatch, role=role, page=page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    titles = [t.value for t in at.title]
    assert titles and SIGN_IN_TITLE not in titles
    assert not any("do not have access" in e.value for e in at.error)
    assert visible_texts(at), "the sweep should see the page"
    problems = offending(at)
    assert problems == [], "\n".join(problems)


def test_sign_in_page_speaks_peoples_language(sqlite_url, monkeypatch):
    monkeypatch.setenv("NGI_DEMO_MODE", "1")
    at = app_test(sqlite_url, monkeypatch, role=None)
    at.run()
    assert not at.exception
    assert any("Sign in" in t for t in visible_texts(at))
    assert offending(at) == []


def test_the_sweep_catches_what_the_issue_lists():
    """The pattern itself: each complaint from issue 14 is caught."""
    for text in ("cell a1_drivers_map", "markdown value 0 finding(s)", "cell 2026-12-02 09:14:00+00:00",
                 "cell of reason: None", "Tokens in None", "rubric / None", "Active: NaN",
                 "caption value unit_1_systems_thinking", "metric value project_lead"):
        assert BAD.search(text), text
    for text in ("Drivers map for your company", "2 Dec 2026, 09:14", "3 findings", "Program lead", "—"):
        assert not BAD.search(text), text
