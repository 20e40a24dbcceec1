"""Telemetry retention: nothing is deleted by default; past the horizon only events the
rollups cover go; every analytics figure is unchanged afterwards, and after a rebuild."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import delete, func, insert, select

from benchmarks import cohort
from core import analytics, config, progress, retention, rollup
from core.access import Actor
from core.db import session_scope
from core.errors import Forbidden
from core.models import AuditLog, LearningTelemetry, TelemetryDaily

ADMIN = Actor(id=None, email="admin@test.ngi", display_name="Admin", role="admin")
HORIZON = date(2026, 10, 22)  # the cohort's events run from 2026-08-23 to 2026-11-20
ON = date(2026, 11, 21)


@pytest.fixture
def cohort_engine(seeded_engine, tmp_path):
    with session_scope(seeded_engine) as session:
        ids = cohort.create_students(session, 60, first_id=100)
        companies = cohort.company_ids(session)
        cohort.create_submissions(session, ids, companies)
    path = tmp_path / "cohort.jsonl"
    cohort.write_events(path, ids, events=3000, days=90, end=date(2026, 11, 20), company_ids=companies)
    with path.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    for row in rows:
        row["event_timestamp"] = datetime.fromisoformat(row["event_timestamp"])
    # Stored as they are, then the rollup and progress derived from them (`ngi progress recompute`).
    with session_scope(seeded_engine) as session:
        session.execute(insert(LearningTelemetry), rows)
        progress.recompute(session)
    return seeded_engine


@pytest.fixture
def keep_30ish_days(monkeypatch):
    """A retention period that puts the horizon at HORIZON whatever today is (rollup
    rebuilds read the period from the environment, as the CLI does)."""
    today = datetime.now(config.program_timezone()).date()
    monkeypatch.setenv("NGI_TELEMETRY_RETENTION_DAYS", str((today - HORIZON).days))
    assert retention.horizon() == HORIZON


def _figures(engine) -> dict:
    with session_scope(engine) as session:
        return {
            "active": analytics.active_students(session, actor=ADMIN),
            "funnel": analytics.funnel(session, actor=ADMIN),
            "retention": analytics.retention(session, actor=ADMIN),
            "outcomes": analytics.time_vs_outcomes(session, actor=ADMIN),
            "streaks": analytics.streak_distribution(session, actor=ADMIN, on=ON),
            # Ties in the top list come back in storage order, which a rebuild changes.
            "hotspots": analytics.failure_hotspots(session, actor=ADMIN, limit=10_000)
            .sort_values(["check_id", "activity", "company"]).reset_index(drop=True),
            "at_risk": analytics.at_risk(session, actor=ADMIN, on=ON),
        }


def _assert_same(before: dict, after: dict) -> None:
    for name, frame in before.items():
        assert frame.equals(after[name]), name


def _events(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(LearningTelemetry))


def test_nothing_is_deleted_by_default(cohort_engine, monkeypatch):
    monkeypatch.delenv("NGI_TELEMETRY_RETENTION_DAYS", raising=False)
    stored = _events(cohort_engine)
    result = retention.apply(cohort_engine, actor=ADMIN)
    assert result.horizon is None and result.deleted == 0 and _events(cohort_engine) == stored


def test_applying_retention_leaves_every_figure_unchanged(cohort_engine, keep_30ish_days):
    before = _figures(cohort_engine)
    stored = _events(cohort_engine)

    dry = retention.apply(cohort_engine, actor=ADMIN, dry_run=True)
    assert dry.deleted == 0 and _events(cohort_engine) == stored
    assert len(dry.event_ids) > 200 and set(dry.months()) <= {"2026-08", "2026-09", "2026-10"}

    done = retention.apply(cohort_engine, actor=ADMIN)
    assert done.deleted == len(dry.event_ids) and _events(cohort_engine) == stored - done.deleted
    with session_scope(cohort_engine) as session:
        oldest_left = session.scalar(select(func.min(LearningTelemetry.event_timestamp))
                                     .where(LearningTelemetry.event_type.not_in(retention.KEPT_TYPES)))
        assert session.scalar(select(AuditLog.details).where(AuditLog.action == "telemetry.retention"))[
            "deleted"] == done.deleted
    assert oldest_left is not None
    _assert_same(before, _figures(cohort_engine))

    # A rebuild from the events that are left gives the same figures: the days before the
    # horizon keep their rollup rows, the funnel and first/latest events were kept.
    with session_scope(cohort_engine) as session:
        rollup.rebuild(session)
    _assert_same(before, _figures(cohort_engine))
    assert retention.apply(cohort_engine, actor=ADMIN).deleted == 0  # nothing left to do


def test_events_the_daily_rollup_does_not_cover_are_kept(cohort_engine, keep_30ish_days):
    with session_scope(cohort_engine) as session:
        session.execute(delete(TelemetryDaily).where(TelemetryDaily.user_id == 100))
    result = retention.apply(cohort_engine, actor=ADMIN)
    assert result.uncovered_days > 0
    with session_scope(cohort_engine) as session:
        deleted_ids = set(result.event_ids)
        mine = set(session.scalars(select(LearningTelemetry.id).where(LearningTelemetry.user_id == 100)))
    assert mine and not (mine & deleted_ids)


def test_only_admins_apply_retention(cohort_engine, keep_30ish_days):
    lead = Actor(id=None, email="l@x", display_name="Lead", role="program_lead")
    with pytest.raises(Forbidden):
        retention.apply(cohort_engine, actor=lead, dry_run=True)


def test_cli_dry_run_prints_counts_per_month_and_type(cohort_engine, keep_30ish_days, monkeypatch, capsys):
    from core.cli import main

    monkeypatch.setenv("DATABASE_URL", cohort_engine.url.render_as_string(hide_password=False))
    stored = _events(cohort_engine)
    assert main(["retention", "apply", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would delete" in out and "2026-09" in out
    assert _events(cohort_engine) == stored
