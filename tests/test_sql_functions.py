"""The engine-specific SQL constructs give, on SQLite and PostgreSQL, the days, weeks
and seconds the Python definitions in core.rollup give, and the failed checks of
both validator_errors shapes."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import literal, select, true

from core import rollup
from core.db import UTCDateTime, session_scope
from core.models import LearningSubmission, LearningTelemetry
from core.sql_functions import (
    epoch_seconds,
    json_array_items,
    json_text,
    local_day,
    month_start,
    week_start,
)

ROOT = Path(__file__).resolve().parent.parent
# Around New York's switch to summer time (8 March 2026, 07:00 UTC) and back
# (1 November 2026, 06:00 UTC), and across midnight in both.
INSTANTS = [datetime(2026, 3, 8, 3, tzinfo=UTC) + timedelta(minutes=37 * n) for n in range(12)] + [
    datetime(2026, 11, 1, 3, tzinfo=UTC) + timedelta(minutes=41 * n, seconds=59) for n in range(12)]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_local_day_and_epoch_match_the_python_definitions(engine, monkeypatch, zone):
    monkeypatch.setenv("NGI_TIMEZONE", zone)
    with session_scope(engine) as session:
        offsets = rollup.utc_offset_spans(min(INSTANTS), max(INSTANTS))
        for instant in INSTANTS:
            value = literal(instant, UTCDateTime())
            day, seconds = session.execute(select(
                local_day(value, zone=zone, offsets=offsets), epoch_seconds(value))).one()
            assert (str(day), seconds) == (str(rollup.local_day(instant)), rollup.epoch(instant)), instant


def test_week_and_month_start(engine):
    days = [date(2026, 11, 29) + timedelta(days=n) for n in range(9)] + [date(2024, 2, 29), date(2027, 1, 3)]
    with session_scope(engine) as session:
        for day in days:
            week, month = session.execute(select(week_start(literal(day)), month_start(literal(day)))).one()
            assert (str(week), str(month)) == (str(rollup.week_start(day)), str(rollup.month_start(day))), day


def test_the_local_day_sql_of_a_session_covers_its_events(engine, monkeypatch):
    monkeypatch.setenv("NGI_TIMEZONE", "America/New_York")
    late = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)  # 23:30 on 1 November in New York
    with session_scope(engine) as session:
        day = rollup.local_day_sql(session)(literal(late, UTCDateTime()))
        assert str(session.execute(select(day)).scalar_one()) == "2026-11-01"


REPORT = {"status": "failed", "checks": [{"id": "balance", "status": "failed", "findings": []},
                                         {"id": "totals", "status": "passed", "findings": []}]}
FLAT = [{"check": "balance", "sheet": "BS", "cell": "C9"}, {"check": "links", "sheet": "CF", "cell": "D4"}]


@pytest.mark.parametrize("errors, member, key, expected", [
    (REPORT, "checks", "id", ["balance", "totals"]),
    (FLAT, None, "check", ["balance", "links"]),
    (FLAT, "checks", "id", []),       # a flat list has no checks member
    (REPORT, None, "check", []),      # a report is not an array
    ("a string", "checks", "id", []),  # valid JSON, but no array
])
def test_json_array_items_reads_both_validator_error_shapes(engine, errors, member, key, expected):
    submissions = LearningSubmission.__table__
    with session_scope(engine) as session:
        document = select(literal(errors, submissions.c.validator_errors.type).label("doc")).subquery("s")
        items = json_array_items(document.c.doc, member).table_valued("value").alias("c")
        found = session.scalars(select(json_text(items.c.value, key)).select_from(document.join(items, true())))
        assert sorted(found) == expected


def test_rebuild_gives_the_rows_the_per_event_path_gives(seeded_engine, monkeypatch):
    """Across a DST switch: the SQL rebuild and the event-by-event rollup agree."""
    from core import telemetry
    from core.models import Student, TelemetryDaily

    monkeypatch.setenv("NGI_TIMEZONE", "America/New_York")
    with session_scope(seeded_engine) as session:
        session.add(Student(id=1, email="ada@example.edu", full_name="Ada"))
    with session_scope(seeded_engine) as session:
        for n, instant in enumerate(INSTANTS):
            telemetry.record_event(session, user_id=1, event_type=["lesson_view", "submission"][n % 2],
                                   event_timestamp=instant, time_spent_seconds=600)
    columns = [c for c in TelemetryDaily.__table__.c]
    with session_scope(seeded_engine) as session:
        incremental = session.execute(select(*columns).order_by(TelemetryDaily.day)).all()
        rollup.rebuild(session)
    with session_scope(seeded_engine) as session:
        rebuilt = session.execute(select(*columns).order_by(TelemetryDaily.day)).all()
        assert session.scalar(select(LearningTelemetry.id).limit(1)) is not None
    assert len(incremental) == 4 and rebuilt == incremental


def _built_string(node) -> bool:
    """An f-string, str.format(), % formatting or concatenation: SQL assembled as text."""
    if isinstance(node, ast.JoinedStr):
        # Connection settings (core/db.py's PRAGMAs) are not queries over tables.
        first = node.values[0] if node.values else None
        return not (isinstance(first, ast.Constant) and str(first.value).startswith("PRAGMA "))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return True
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)) and (
        _built_string(node.left) or _built_string(node.right)
        or any(isinstance(side, ast.Constant) and isinstance(side.value, str) for side in (node.left, node.right)))


def test_core_builds_no_sql_from_strings():
    """SQL in core/ is SQLAlchemy expressions: nothing executes text assembled from pieces
    (the @compiles functions in core/sql_functions.py are where engine spellings live)."""
    executes = {"text", "exec_driver_sql", "execute", "executemany", "copy"}
    offenders = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        if path.name == "sql_functions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in executes and _built_string(node.args[0]):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
