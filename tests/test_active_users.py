"""The standard definitions on hand-built histories whose answers are obvious."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core import active_users, telemetry
from core.access import Actor
from core.analytics import Filters
from core.db import session_scope
from core.models import Student

LEAD = Actor(id=None, email="l@x", display_name="Lead", role="program_lead")


@pytest.fixture
def students(seeded_engine):
    with session_scope(seeded_engine) as session:
        for i in range(1, 6):
            session.add(Student(id=i, email=f"s{i}@example.edu", full_name=f"Student {i}", cohort="north"))
    return seeded_engine


def _active(engine, user_id: int, *days: date) -> None:
    with session_scope(engine) as session:
        for day in days:
            # Noon UTC is the same calendar day in the default program timezone.
            telemetry.record_event(session, user_id=user_id, event_type="lesson_view",
                                   event_timestamp=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))


def _frame(engine, start: date, end: date, today: date):
    with session_scope(engine) as session:
        return active_users.active_students(session, actor=LEAD, filters=Filters(start=start, end=end), today=today)


def test_month_boundary_no_longer_reads_100_percent(students):
    # Four students active through late November; on 1 December only one comes back.
    for user_id in range(1, 5):
        _active(students, user_id, *[date(2026, 11, 20) + timedelta(days=n) for n in range(11)])
    _active(students, 1, date(2026, 12, 1))
    frame = _frame(students, date(2026, 11, 1), date(2026, 12, 2), today=date(2026, 12, 2))
    head = active_users.headline(frame, Filters(end=date(2026, 12, 2)), today=date(2026, 12, 2))
    # A calendar month would say 1 active in December, DAU/MAU 100%.
    assert head.day == date(2026, 12, 1)
    assert (head.dau, head.wau, head.mau) == (1, 4, 4)
    assert frame.set_index("day").loc[date(2026, 12, 1), "stickiness"] == 0.25
    # Stickiness averages the days: eleven days at 4/4, then 1/4.
    assert head.stickiness == pytest.approx(round((11 * 1.0 + 0.25) / 12, 4), abs=1e-4)


def test_trailing_windows_include_the_day_and_forget_it_after_7_and_28_days(students):
    _active(students, 1, date(2026, 10, 1))
    _active(students, 2, date(2026, 10, 1), date(2026, 10, 3))  # counted once, not twice
    frame = _frame(students, date(2026, 10, 1), date(2026, 11, 5), today=date(2026, 12, 1)).set_index("day")
    assert frame.loc[date(2026, 10, 1), ["dau", "wau", "mau"]].tolist() == [2, 2, 2]
    assert frame.loc[date(2026, 10, 3), ["dau", "wau", "mau"]].tolist() == [1, 2, 2]
    assert frame.loc[date(2026, 10, 7), "wau"] == 2  # day 7 of the window for 1 October
    assert frame.loc[date(2026, 10, 8), "wau"] == 1  # 1 October has left the window; 3 October has not
    assert frame.loc[date(2026, 10, 10), "wau"] == 0
    assert frame.loc[date(2026, 10, 28), "mau"] == 2
    assert frame.loc[date(2026, 10, 29), "mau"] == 1
    assert frame.loc[date(2026, 10, 31), "mau"] == 0


def test_activity_before_the_range_counts_in_its_first_days(students):
    _active(students, 3, date(2026, 9, 25))
    frame = _frame(students, date(2026, 10, 1), date(2026, 10, 31), today=date(2026, 12, 1)).set_index("day")
    assert frame.loc[date(2026, 10, 1), ["dau", "wau", "mau"]].tolist() == [0, 1, 1]
    assert frame.loc[date(2026, 10, 22), "mau"] == 1 and frame.loc[date(2026, 10, 23), "mau"] == 0


def test_cohort_filter_narrows_the_students(students):
    with session_scope(students) as session:
        session.add(Student(id=9, email="s9@example.edu", full_name="South", cohort="south"))
    _active(students, 1, date(2026, 10, 1))
    _active(students, 9, date(2026, 10, 1))
    with session_scope(students) as session:
        frame = active_users.active_students(session, actor=LEAD, today=date(2026, 12, 1),
                                             filters=Filters(cohort="south", start=date(2026, 10, 1),
                                                             end=date(2026, 10, 2)))
    assert frame.set_index("day").loc[date(2026, 10, 1), "dau"] == 1
