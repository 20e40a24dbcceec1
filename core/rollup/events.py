"""The rollup maintained event by event: each new event updates its student's rows
in place, without reading the student's history."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import (
    ActivityFunnel,
    LearningTelemetry,
    TelemetryDaily,
    TelemetryStudentState,
)
from core.rollup.definitions import (
    CAP_SECONDS,
    COUNTERS,
    FUNNEL_TYPES,
    ContentMap,
    capped_seconds,
    content_map,
    epoch,
    funnel_activity,
    funnel_row,
    local_day,
    month_start,
    week_start,
)
from core.rollup.rebuild_sql import rebuild
from core.rollup.submissions import refresh_submissions

# Events after which a submission's validator result or feedback may have changed.
_SUBMISSION_TYPES = ("submission", "validator_pass", "validator_fail", "feedback_issued")


def apply_event(session: Session, event: LearningTelemetry, *, cmap: ContentMap | None = None) -> None:
    """Fold one just-inserted event into the rollup. An event older than the student's
    latest (a late arrival) rebuilds that student instead, which gives the same rows."""
    ts = event.event_timestamp
    if ts is None:
        raise ValueError("an event needs its event_timestamp before the rollup can take it in")
    state = session.get(TelemetryStudentState, event.user_id)
    if state is not None and ts < state.last_event_at:
        rebuild(session, user_ids=[event.user_id], cmap=cmap)
        return
    with session.no_autoflush:
        _apply(session, event, ts, state, cmap)
    session.flush()


def _apply(session: Session, event: LearningTelemetry, ts: datetime, state: TelemetryStudentState | None,
           cmap: ContentMap | None) -> None:
    day = local_day(ts)
    if state is None:
        state = TelemetryStudentState(
            user_id=event.user_id, first_event_at=ts, first_active_week=week_start(day), session_start_at=ts,
            last_event_at=ts, last_event_id=event.id, last_tail_seconds=0,
        )
        session.add(state)
    else:
        gap = epoch(ts) - epoch(state.last_event_at)
        _daily(session, event.user_id, local_day(state.last_event_at)).active_seconds += (
            min(gap, CAP_SECONDS) - state.last_tail_seconds
        )
        if gap > CAP_SECONDS:
            state.session_start_at = ts
    tail = capped_seconds(event.time_spent_seconds)
    row = _daily(session, event.user_id, day)
    row.events += 1
    column = COUNTERS.get(event.event_type, "other_events")
    setattr(row, column, getattr(row, column) + 1)
    row.active_seconds += tail
    state.last_event_at, state.last_event_id, state.last_tail_seconds = ts, event.id, tail
    if event.module or event.unit or event.lesson or event.activity:
        state.context_module, state.context_unit = event.module, event.unit
        state.context_lesson, state.context_activity = event.lesson, event.activity
    if event.company_id is not None:
        state.company_id = event.company_id
    if event.event_type in _SUBMISSION_TYPES and event.submission_id is not None:
        refresh_submissions(session, submission_ids=[event.submission_id])
    if event.event_type in FUNNEL_TYPES:
        cmap = cmap or content_map(session)
        activity = funnel_activity(cmap, event.activity, event.lesson)
        if activity:
            _refresh_funnel_row(session, event.user_id, activity, cmap)


def _daily(session: Session, user_id: int, day: date) -> TelemetryDaily:
    row = session.get(TelemetryDaily, (user_id, day))
    if row is None:
        row = TelemetryDaily(
            user_id=user_id, day=day, week_start=week_start(day), month_start=month_start(day), events=0,
            lesson_views=0, activity_starts=0, submissions=0, validator_passes=0, validator_fails=0,
            feedback_issued=0, other_events=0, active_seconds=0,
        )
        session.add(row)
    return row


def _refresh_funnel_row(session: Session, user_id: int, activity: str, cmap: ContentMap) -> None:
    rows = session.execute(
        select(LearningTelemetry.event_type, LearningTelemetry.event_timestamp, LearningTelemetry.activity,
               LearningTelemetry.lesson)
        .where(LearningTelemetry.user_id == user_id, LearningTelemetry.event_type.in_(FUNNEL_TYPES))
    ).all()
    events = [(r.event_type, r.event_timestamp) for r in rows
              if funnel_activity(cmap, r.activity, r.lesson) == activity]
    values = funnel_row(events)
    row = session.get(ActivityFunnel, (user_id, activity))
    if row is None:
        session.add(ActivityFunnel(user_id=user_id, activity=activity, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
