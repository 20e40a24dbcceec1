"""One activity's funnel: conversion from the previous and first step, median minutes
between steps, out-of-order steps, and the students behind a step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import funnels, telemetry
from core.access import Actor
from core.db import session_scope
from core.models import Student

LEAD = Actor(id=None, email="l@x", display_name="Lead", role="program_lead")
T0 = datetime(2026, 10, 5, 14, tzinfo=UTC)


@pytest.fixture
def students(seeded_engine):
    with session_scope(seeded_engine) as session:
        for i in range(1, 5):
            session.add(Student(id=i, email=f"s{i}@example.edu", full_name=f"S{i}", cohort="north"))
    return seeded_engine


def _walk(engine, user_id, *steps, minutes=10):
    with session_scope(engine) as session:
        for n, step in enumerate(steps):
            lesson = "l2_revenue_drivers" if step == "lesson_view" else None
            telemetry.record_event(session, user_id=user_id, event_type=step, lesson=lesson,
                                   activity=None if lesson else "a1_drivers_map",
                                   event_timestamp=T0 + timedelta(minutes=minutes * n))


def test_conversion_and_median_minutes_with_out_of_order_steps(students):
    _walk(students, 1, "lesson_view", "activity_start", "submission", minutes=10)
    _walk(students, 2, "lesson_view", "activity_start", minutes=30)
    _walk(students, 3, "lesson_view")
    # Out of order: started before reading the lesson, never started again: step 1 only.
    _walk(students, 4, "activity_start", "lesson_view", "submission")
    with session_scope(students) as session:
        frame = funnels.activity_funnel(session, actor=LEAD, activity="a1_drivers_map").set_index("step_index")
        behind = funnels.step_students(session, actor=LEAD, activity="a1_drivers_map", step_index=2)
        listed = funnels.activities(session, actor=LEAD)
    assert frame["students"].tolist() == [4, 2, 1, 0, 0]
    assert frame.loc[2, "pct_previous"] == 50.0 and frame.loc[3, "pct_previous"] == 50.0
    assert frame.loc[3, "pct_first"] == 25.0 and pd_isna(frame.loc[1, "pct_previous"])
    assert frame.loc[2, "median_minutes"] == 20.0  # 10 and 30 minutes
    assert frame.loc[3, "median_minutes"] == 10.0
    assert behind == [1, 2]
    assert listed == ["a1_drivers_map"]


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
