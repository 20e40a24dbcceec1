"""Import rows: the fast checks give the row (and the line's error) the full parser
gives, and event keys are the ones earlier imports stored, so re-imports still dedupe."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from core.telemetry import rows
from core.telemetry.parse import ImportResult

LOOKUP = SimpleNamespace(students={1: "ada@example.edu", 2: None}, by_email={}, companies={3}, tickers={},
                         submissions={7})
GOOD = {"user_id": 1, "event_type": "lesson_view", "event_category": "learning", "module": "business_foundations",
        "unit": "u1", "lesson": "l1", "activity": None, "company_id": 3, "submission_id": 7, "session_id": "s",
        "time_spent_seconds": 30, "user_agent": "Mozilla from 203.0.113.77", "ip_address": "198.51.100.23",
        "event_data": {"note": "seen at 203.0.113.77"}, "event_timestamp": "2026-10-05T09:15:00-04:00"}
VARIANTS = [
    {},
    {"module": "", "unit": None},  # empty text is no value
    {"user_id": "1"},  # a number as text
    {"user_id": True},
    {"user_id": 9},
    {"event_type": ""},
    {"event_type": "x" * 101},
    {"lesson": 5},
    {"company_id": 4},
    {"submission_id": "7"},
    {"time_spent_seconds": -1},
    {"ip_address": "2001:db8::1"},
    {"ip_address": "198.51.100.023"},
    {"ip_address": "not an address"},
    {"event_timestamp": "2026-10-05T09:15:00"},
    {"event_timestamp": "yesterday"},
    {"event_data": [1]},
    {"event_id": "e-17"},
    {"colour": "red"},
]


def _lines(records):
    return io.StringIO("".join(json.dumps(r) + "\n" for r in records))


def _parse(records, fast: bool):
    result = ImportResult()
    original = rows._fast
    if not fast:
        rows._fast = lambda record, lookup: None  # every line through the full parser
    try:
        got = list(rows.parsed_rows(_lines(records), "jsonl", LOOKUP, None, result, set()))
    finally:
        rows._fast = original
    return got, result.errors


def test_the_fast_checks_agree_with_the_full_parser_row_for_row_and_error_for_error():
    records = [{**GOOD, **change} for change in VARIANTS]
    records = [{k: v for k, v in r.items() if k != "unit" or v is not None} for r in records]
    fast, fast_errors = _parse(records, fast=True)
    full, full_errors = _parse(records, fast=False)
    assert fast == full and fast_errors == full_errors
    assert len(full_errors) == 13  # each bad variant named by its line
    assert [line for line, _ in full_errors][:3] == [4, 5, 6]  # "1" as text is a good user_id
    _, values = fast[0]
    assert values[-2] == "198.51.100.0" and "203.0.113.77" not in values[-3] and "203.0.113.77" not in values[9]
    assert fast[1][1][3] is None  # empty module stored as no module


def test_natural_keys_are_the_text_earlier_imports_hashed():
    ts = datetime(2026, 10, 5, 13, 15, tzinfo=UTC)
    args = (1, "lesson_view", ts, "mod\u00e9", None, 'l"1', None, "s", 7)
    expected = "nk:" + json.dumps([1, "lesson_view", ts.isoformat(), "mod\u00e9", None, 'l"1', None, "s", 7])
    assert rows.natural_key(*args) == expected


@pytest.mark.parametrize("fast", [True, False])
def test_a_line_without_an_id_gets_the_key_of_its_fields(fast):
    [(digest, _)] = _parse([GOOD], fast=fast)[0]
    ts = datetime(2026, 10, 5, 13, 15, tzinfo=UTC)
    key = "nk:" + json.dumps([1, "lesson_view", ts.isoformat(), "business_foundations", "u1", "l1", None, "s", 7])
    assert digest == hashlib.sha256(key.encode()).hexdigest()
