"""Bulk import: rollups and progress after a chunked import equal a full rebuild from
the same raw events, whether the file is grouped by student or ordered by time."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from benchmarks import cohort
from core import progress, telemetry_bulk
from core.db import session_scope
from core.errors import Invalid
from core.models import ActivityFunnel, LearningTelemetry, TelemetryDaily, TelemetryStudentState
from tests.support import SETUP_ADMIN


@pytest.fixture
def population(seeded_engine):
    with session_scope(seeded_engine) as session:
        ids = cohort.create_students(session, 30, first_id=1)
        cohort.create_submissions(session, ids, cohort.company_ids(session))
    return seeded_engine, ids


def _tables(session):
    def rows(model):
        return sorted(tuple(r) for r in session.execute(select(*model.__table__.columns)))
    return rows(TelemetryDaily), rows(ActivityFunnel), rows(TelemetryStudentState), progress.snapshot(session)


@pytest.mark.parametrize("order", ["by_student", "by_time"])
def test_bulk_import_equals_a_full_rebuild(population, tmp_path, order):
    engine, ids = population
    path = tmp_path / "events.jsonl"
    cohort.write_events(path, ids, events=3000, days=60, end=date(2026, 11, 20))
    lines = path.read_text().splitlines()
    if order == "by_time":
        lines.sort(key=lambda line: json.loads(line)["event_timestamp"])
    lines.insert(17, '{"user_id": 99999, "event_type": "lesson_view"}')  # one bad line, skipped
    path.write_text("\n".join(lines) + "\n")
    seen = []
    result = telemetry_bulk.import_bulk(engine, path, actor=SETUP_ADMIN, chunk_size=400, on_progress=seen.append)
    assert result.chunks >= 7 and result.accepted > 2500 and result.rejected == 1
    assert result.errors[0][0] == 18 and "99999" in result.errors[0][1]
    assert seen[-1].bytes_read == seen[-1].bytes_total and seen[-1].events_per_second > 0
    summary = json.loads(json.dumps(result.as_json()))
    assert summary["accepted"] == result.accepted and summary["errors"][0]["line"] == 18
    with session_scope(engine) as session:
        after_import = _tables(session)
        assert session.scalar(select(func.count()).select_from(LearningTelemetry)) == result.accepted
    with session_scope(engine) as session:
        progress.recompute(session)
    with session_scope(engine) as session:
        rebuilt = _tables(session)
    for imported, full in zip(after_import, rebuilt):
        assert imported == full
    assert len(after_import[3]) == len({json.loads(line)["user_id"] for line in lines[:17] + lines[18:]})
    # A second import of the same file adds nothing.
    again = telemetry_bulk.import_bulk(engine, path, actor=SETUP_ADMIN, chunk_size=400)
    assert (again.accepted, again.duplicates) == (0, result.accepted)


def test_strict_bulk_import_writes_nothing(population, tmp_path):
    engine, ids = population
    path = tmp_path / "events.jsonl"
    cohort.write_events(path, ids[:3], events=200, days=10, end=date(2026, 11, 20))
    with path.open("a") as out:
        out.write("not json\n")
    with pytest.raises(Invalid, match="strict"):
        telemetry_bulk.import_bulk(engine, path, actor=SETUP_ADMIN, strict=True, chunk_size=50)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(LearningTelemetry)) == 0
