"""Derived progress: streaks in the program timezone, milestones, time invested with
idle gaps capped, completion, and incremental updates equal to a full recompute."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core import progress, telemetry
from core.db import session_scope
from core.models import ActivityFunnel, LearningProgress, Student, TelemetryDaily, TelemetryStudentState

NY = ZoneInfo("America/New_York")


@pytest.fixture
def student(seeded_engine):
    with session_scope(seeded_engine) as session:
        session.add_all([Student(id=1, email="ada@example.edu", cohort="c1"),
                         Student(id=2, email="grace@example.edu", cohort="c1"),
                         Student(id=3, email="alan@example.edu", cohort="c2")])
    return seeded_engine


@pytest.fixture
def today(monkeypatch):
    """Set the program-timezone 'today' the stored current streak is judged on."""
    def set_today(day: date) -> None:
        monkeypatch.setattr(progress, "today", lambda: day)
    return set_today


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def _record(engine, *moments, user_id=1, **fields):
    with session_scope(engine) as session:
        for moment in moments:
            telemetry.record_event(session, user_id=user_id, event_type=fields.get("event_type", "lesson_view"),
                                   event_timestamp=moment, **{k: v for k, v in fields.items() if k != "event_type"})


def _progress(engine, user_id=1) -> LearningProgress:
    with session_scope(engine) as session:
        return session.scalar(select(LearningProgress).where(LearningProgress.user_id == user_id))


def test_streak_across_daylight_saving_change(student, today):
    today(date(2026, 3, 10))
    # US clocks go forward on 8 March 2026. 23:30 local each evening: in UTC the first
    # two land on 8 and 9 March and the third also on 9 March, so a UTC count says 2.
    _record(student, _local(2026, 3, 7, 23, 30), _local(2026, 3, 8, 23, 30), _local(2026, 3, 9, 0, 30))
    row = _progress(student)
    assert (row.current_streak_days, row.longest_streak_days) == (3, 3)
    assert row.last_activity_date == date(2026, 3, 9)
    assert row.streak_milestones == [{"days": 3, "achieved_at": "2026-03-09"}]


def test_streak_across_program_midnight(student, today):
    today(date(2026, 10, 6))
    # 23:50 and 00:10 New York time are two days there, but the same UTC day (04:50, 05:10).
    _record(student, _local(2026, 10, 5, 23, 50), _local(2026, 10, 6, 0, 10))
    row = _progress(student)
    assert (row.current_streak_days, row.longest_streak_days) == (2, 2)
    assert row.last_activity_date == date(2026, 10, 6)


def test_streak_follows_the_configured_timezone(student, monkeypatch, today):
    today(date(2026, 10, 6))
    monkeypatch.setenv("NGI_TIMEZONE", "UTC")
    _record(student, _local(2026, 10, 5, 23, 50), _local(2026, 10, 6, 0, 10))
    assert _progress(student).current_streak_days == 1


def test_gap_day_breaks_the_streak_and_two_events_count_once(student, today):
    today(date(2026, 9, 7))
    days = [date(2026, 9, d) for d in (1, 2, 3, 5, 6)]
    moments = [_local(d.year, d.month, d.day, 18) for d in days] + [_local(2026, 9, 6, 21)]
    _record(student, *moments)
    row = _progress(student)
    assert (row.current_streak_days, row.longest_streak_days) == (2, 3)
    assert row.last_activity_date == date(2026, 9, 6)
    with session_scope(student) as session:
        assert session.scalar(select(TelemetryDaily.events).where(TelemetryDaily.day == date(2026, 9, 6))) == 2


def test_milestones_keep_the_day_they_were_first_reached(student, today):
    today(date(2026, 4, 23))
    first_run = [_local(2026, 4, 1, 12) + timedelta(days=n) for n in range(7)]  # 1–7 April
    second_run = [_local(2026, 4, 10, 12) + timedelta(days=n) for n in range(14)]  # 10–23 April
    _record(student, *first_run, *second_run)
    row = _progress(student)
    assert row.streak_milestones == [
        {"days": 3, "achieved_at": "2026-04-03"},
        {"days": 7, "achieved_at": "2026-04-07"},
        {"days": 14, "achieved_at": "2026-04-23"},
    ]
    assert (row.current_streak_days, row.longest_streak_days) == (14, 14)


def test_streaks_function_directly():
    start = date(2026, 1, 1)
    result = progress.streaks([start + timedelta(days=n) for n in range(100)] + [date(2026, 6, 1)])
    assert (result.current, result.longest) == (1, 100)
    assert [m["days"] for m in result.milestones] == [3, 7, 14, 30, 60, 100]
    assert result.milestones[-1]["achieved_at"] == "2026-04-10"
    assert progress.streaks([]) == progress.Streaks(0, 0, None, [])


def test_live_streak_breaks_after_a_missed_day():
    assert progress.live_streak(5, date(2026, 5, 10), date(2026, 5, 11)) == 5
    assert progress.live_streak(5, date(2026, 5, 10), date(2026, 5, 12)) == 0


def test_time_invested_caps_idle_gaps(student):
    start = _local(2026, 10, 5, 20, 0)
    with session_scope(student) as session:
        for moment, spent in ((start, None), (start + timedelta(minutes=10), None),
                              (start + timedelta(hours=9), 300)):  # the tab stayed open overnight
            telemetry.record_event(session, user_id=1, event_type="lesson_view", event_timestamp=moment,
                                   time_spent_seconds=spent)
    row = _progress(student)
    assert row.total_minutes_invested == 10 + 30 + 5
    assert row.last_session_start == start + timedelta(hours=9)


def test_completion_and_position(student):
    at = _local(2026, 10, 5, 9)
    _record(student, at, event_type="validator_pass", module="business_foundations", activity="a1_drivers_map")
    _record(student, at + timedelta(hours=1), event_type="lesson_view", lesson="l3_income_statement")
    row = _progress(student)
    assert row.activities_completed == 1
    assert float(row.completion_percentage) == pytest.approx(33.33)
    assert (row.units_completed, row.modules_completed) == (1, 1)
    assert (row.current_module, row.current_unit, row.current_activity) == (
        "accounting_i", "unit_2_three_statements", "a2_wc_debt")
    assert not row.capstone_submitted
    _record(student, at + timedelta(hours=2), event_type="submission", activity="capstone")
    row = _progress(student)
    assert row.capstone_submitted and row.capstone_submitted_at == at + timedelta(hours=2)


def _tables(session):
    def rows(model):
        columns = model.__table__.columns
        return sorted(tuple(r) for r in session.execute(select(*columns)))
    return rows(TelemetryDaily), rows(ActivityFunnel), rows(TelemetryStudentState), progress.snapshot(session)


def test_recompute_equals_incremental(student):
    rnd = random.Random(11)
    kinds = ["lesson_view", "activity_start", "submission", "validator_pass", "validator_fail",
             "feedback_issued", "page_view"]
    base = _local(2026, 2, 20, 8)  # spans the March DST change
    with session_scope(student) as session:
        clock = base
        for _ in range(250):
            clock += timedelta(minutes=rnd.choice([2, 7, 25, 40, 300, 1400]))
            late = rnd.random() < 0.1  # a late arrival, older than the student's latest event
            telemetry.record_event(
                session, user_id=rnd.randint(1, 3), event_type=rnd.choice(kinds),
                lesson=rnd.choice([None, "l1_business_model", "l6_working_capital"]),
                activity=rnd.choice([None, None, "a1_drivers_map", "a2_wc_debt", "capstone"]),
                module=rnd.choice([None, "accounting_i"]), company_id=rnd.choice([None, 1, 2]),
                time_spent_seconds=rnd.choice([None, 30, 600, 5000]),
                event_timestamp=clock - timedelta(days=3) if late else clock,
            )
    with session_scope(student) as session:
        incremental = _tables(session)
    with session_scope(student) as session:
        assert progress.recompute(session) == 3
    with session_scope(student) as session:
        rebuilt = _tables(session)
    for before, after in zip(incremental, rebuilt):
        assert before == after
    # One student alone gives the same again.
    with session_scope(student) as session:
        progress.recompute(session, 2)
    with session_scope(student) as session:
        assert _tables(session) == rebuilt


# --- live streaks: the stored current streak lapses once a whole day passes idle ------


def test_stored_streak_is_zero_once_a_day_passes_without_activity(student, today):
    # A DST week: US clocks go back on 1 November 2026; 23:30 local every evening.
    today(date(2026, 11, 5))
    _record(student, *[_local(2026, 10, 29, 23, 30) + timedelta(days=n) for n in range(7)])
    assert _progress(student).current_streak_days == 7  # last active 4 November: alive on the 5th
    today(date(2026, 11, 6))  # the 5th passed without activity
    with session_scope(student) as session:
        progress.recompute(session)
    row = _progress(student)
    assert (row.current_streak_days, row.longest_streak_days) == (0, 7)


def test_local_midnight_decides_the_day_not_utc(student, today):
    # 23:50 New York on 6 October is 03:50 UTC on the 7th; the 7th still keeps it alive.
    today(date(2026, 10, 7))
    _record(student, _local(2026, 10, 5, 23, 50), _local(2026, 10, 6, 23, 50))
    assert progress.lapse_streaks(student, on=date(2026, 10, 7)) == 0
    assert _progress(student).current_streak_days == 2
    assert progress.lapse_streaks(student, on=date(2026, 10, 8)) == 1
    assert _progress(student).current_streak_days == 0


def test_daily_job_lapses_only_the_lapsed_student(student, today):
    today(date(2026, 2, 11))
    _record(student, *[_local(2026, 2, 1 + n, 10) for n in range(8)])  # Ada: 1–8 February
    _record(student, _local(2026, 2, 9, 10), _local(2026, 2, 10, 10), user_id=2)  # Grace: 9–10 February
    # Written when each event arrived: Ada's 8 stayed stored while she went quiet.
    with session_scope(student) as session:
        session.execute(LearningProgress.__table__.update().where(LearningProgress.user_id == 1)
                        .values(current_streak_days=8))
    assert progress.lapse_streaks(student, on=date(2026, 2, 11)) == 1
    assert _progress(student, 1).current_streak_days == 0
    assert _progress(student, 2).current_streak_days == 2
    assert progress.lapse_streaks(student, on=date(2026, 2, 11)) == 0  # idempotent


def test_in_process_runner_lapses_once_per_program_day(student, today):
    from core.jobs import local

    today(date(2026, 3, 1))
    _record(student, _local(2026, 2, 27, 10), _local(2026, 2, 28, 10))
    assert _progress(student).current_streak_days == 2
    daily = local.Daily()
    assert daily(student) is True and _progress(student).current_streak_days == 2
    today(date(2026, 3, 2))
    assert daily(student) is True and _progress(student).current_streak_days == 0
    assert daily(student) is False  # the same day again does nothing


def test_procrastinate_app_has_the_periodic_lapse_task(student, today, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("procrastinate runs on PostgreSQL; SQLite uses the in-process runner")
    from core.jobs import pg

    app = pg.make_app(student)
    periodic = [p for p in app.periodic_registry.periodic_tasks.values() if p.task.name == pg.LAPSE_TASK]
    assert [p.cron for p in periodic] == [pg.LAPSE_CRON]
    today(date(2026, 3, 3))
    _record(student, _local(2026, 2, 27, 10), _local(2026, 2, 28, 10))
    with session_scope(student) as session:
        session.execute(LearningProgress.__table__.update().values(current_streak_days=2))
    periodic[0].task(timestamp=0)
    assert _progress(student).current_streak_days == 0
