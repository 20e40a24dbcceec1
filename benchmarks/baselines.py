"""The chart queries of core/analytics.py run straight over learning_telemetry instead
of the rollups: the tests check they agree with the rollup figures, and
benchmarks/bench_analytics.py times them. They share the chart functions' query
builders, so only the source differs."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import active_users, analytics, rollup
from core.analytics import Filters
from core.models import LearningTelemetry
from core.sql_functions import month_start, week_start


def raw_days(session: Session):
    """Distinct (student, day) pairs computed from raw events, with week and month."""
    events = LearningTelemetry.__table__
    day = rollup.local_day_sql(session)(events.c.event_timestamp)
    pairs = select(events.c.user_id, day.label("d")).distinct().subquery("x")
    return select(pairs.c.user_id, pairs.c.d.label("day"), week_start(pairs.c.d).label("week_start"),
                  month_start(pairs.c.d).label("month_start")).subquery("r")


def raw_active_students(session: Session, filters: Filters = Filters(), today=None) -> pd.DataFrame:
    start, end = active_users._range(filters, today)
    spans = active_users.spans_select(raw_days(session), filters, start, end)
    return active_users.daily_frame(analytics._frame(session, spans), start, end)


def raw_funnel(session: Session, filters: Filters = Filters()) -> pd.DataFrame:
    funnel = rollup.funnel_select(rollup.content_map(session)).subquery("a")
    with rollup.hash_joins(session):
        wide = analytics._frame(session, analytics._funnel_select(session, funnel, filters))
    return analytics._funnel_frame(session, wide)


def raw_retention(session: Session, filters: Filters = Filters()) -> pd.DataFrame:
    days = raw_days(session)
    cohorts = select(days.c.user_id, func.min(days.c.week_start).label("cohort_week")).group_by(
        days.c.user_id).subquery("c")
    return analytics._retention_frame(analytics._frame(session, analytics._retention_select(days, cohorts, filters)))
