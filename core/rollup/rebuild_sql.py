"""The rollup rebuilt from raw events: one INSERT … SELECT per table, for everyone or
for some students, giving the rows the per-event path gives."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager

from sqlalchemy import and_, case, delete, func, insert, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, FromClause, Select

from core.models import (
    ActivityFunnel,
    LearningProgress,
    LearningTelemetry,
    SubmissionOutcome,
    TelemetryDaily,
    TelemetryStudentState,
    ValidatorCheckFailure,
)
from core.rollup.definitions import (
    CAP_SECONDS,
    COMPLETION_TYPES,
    COUNTERS,
    FUNNEL_STEPS,
    FUNNEL_TYPES,
    ContentMap,
    content_map,
    local_day_sql,
)
from core.rollup.submissions import refresh_submissions
from core.sql_functions import analyze as analyze_table
from core.sql_functions import epoch_seconds, month_start, week_start

_CHUNK = 500
_events = LearningTelemetry.__table__
_daily = TelemetryDaily.__table__
_funnel = ActivityFunnel.__table__
_state = TelemetryStudentState.__table__
ROLLUP_TABLES = (_events, _daily, _funnel, _state, ValidatorCheckFailure.__table__, SubmissionOutcome.__table__,
                 LearningProgress.__table__)


def _scope(column, user_ids: list[int] | None) -> ColumnElement[bool]:
    return true() if user_ids is None else column.in_(user_ids)


def _capped(seconds) -> ColumnElement[int]:
    return case((seconds > CAP_SECONDS, CAP_SECONDS), (seconds < 0, 0), else_=seconds)


def _latest_first(events) -> ColumnElement[int]:
    return func.row_number().over(partition_by=events.c.user_id,
                                  order_by=(events.c.event_timestamp.desc(), events.c.id.desc()))


def daily_select(local_day: Callable, user_ids: list[int] | None = None) -> Select:
    """learning_telemetry_daily rows from raw events (`local_day` from local_day_sql)."""
    ev = _events
    ts = ev.c.event_timestamp
    w = select(
        ev.c.user_id, ev.c.event_type, ev.c.time_spent_seconds, local_day(ts).label("d"),
        epoch_seconds(ts).label("es"),
        func.lead(epoch_seconds(ts)).over(partition_by=ev.c.user_id, order_by=(ts, ev.c.id)).label("nx"),
    ).where(_scope(ev.c.user_id, user_ids)).subquery("w")
    gap = w.c.nx - w.c.es
    credit = case((w.c.nx.is_(None), _capped(func.coalesce(w.c.time_spent_seconds, 0))),
                  (gap > CAP_SECONDS, CAP_SECONDS), else_=gap)
    e = select(w.c.user_id, w.c.event_type, w.c.d, credit.label("credit")).subquery("e")
    counters = [func.sum(case((e.c.event_type == event_type, 1), else_=0)).label(column)
                for event_type, column in COUNTERS.items()]
    return select(
        e.c.user_id, e.c.d.label("day"), week_start(e.c.d).label("week_start"),
        month_start(e.c.d).label("month_start"), func.count().label("events"), *counters,
        func.sum(case((e.c.event_type.not_in(list(COUNTERS)), 1), else_=0)).label("other_events"),
        func.sum(e.c.credit).label("active_seconds"),
    ).group_by(e.c.user_id, e.c.d)


def funnel_select(cmap: ContentMap, user_ids: list[int] | None = None) -> Select:
    """learning_activity_funnel rows from raw events: the first time of each step, and
    the ordered chain (each step at or after the previous one was reached)."""
    activity: ColumnElement[str] = _events.c.activity
    if cmap.lesson_activity:
        # The catalogue's lesson -> activity pairs travel as bound parameters.
        activity = func.coalesce(activity, case(cmap.lesson_activity, value=_events.c.lesson))
    ev = select(_events.c.user_id, activity.label("act"), _events.c.event_type,
                _events.c.event_timestamp.label("ts")).where(
        _events.c.event_type.in_(FUNNEL_TYPES), _scope(_events.c.user_id, user_ids)).cte("ev")
    firsts = [func.min(case((ev.c.event_type == step, ev.c.ts))).label(_funnel.c[step + "_at"].name)
              for step in FUNNEL_STEPS]
    f = select(
        ev.c.user_id, ev.c.act, func.min(ev.c.ts).label("first_at"), *firsts,
        func.min(case((ev.c.event_type.in_(COMPLETION_TYPES), ev.c.ts))).label("completed_at"),
    ).where(ev.c.act.is_not(None)).group_by(ev.c.user_id, ev.c.act).cte("f")
    steps, previous, reached = [], f, f.c.lesson_view_at
    for n, step in enumerate(FUNNEL_STEPS[1:], start=2):
        s = (select(ev.c.user_id, ev.c.act, func.min(ev.c.ts).label("t"))
             .select_from(ev.join(previous, and_(previous.c.user_id == ev.c.user_id, previous.c.act == ev.c.act)))
             .where(ev.c.event_type == step, ev.c.ts >= reached)
             .group_by(ev.c.user_id, ev.c.act).cte("s" + str(n)))
        steps.append((n, s))
        previous, reached = s, s.c.t
    joined: FromClause = f
    for _, s in steps:
        joined = joined.outerjoin(s, and_(s.c.user_id == f.c.user_id, s.c.act == f.c.act))
    ordered = case(*[(s.c.t.is_not(None), n) for n, s in reversed(steps)],
                   (f.c.lesson_view_at.is_not(None), 1), else_=0)
    return select(
        f.c.user_id, f.c.act.label("activity"), f.c.first_at, *[f.c[step + "_at"] for step in FUNNEL_STEPS],
        ordered.label("ordered_steps"), f.c.completed_at,
    ).select_from(joined)


def _state_select(user_ids: list[int] | None) -> Select:
    """learning_telemetry_state rows: each student's latest event, session start, first
    active week, latest context and latest company."""
    ev = _events
    scope = _scope(ev.c.user_id, user_ids)
    latest = select(ev.c.user_id, ev.c.id, ev.c.event_timestamp, ev.c.time_spent_seconds,
                    _latest_first(ev).label("rn")).where(scope).subquery("l")
    es = epoch_seconds(ev.c.event_timestamp)
    gaps = select(ev.c.user_id, ev.c.event_timestamp, es.label("es"),
                  func.lag(es).over(partition_by=ev.c.user_id, order_by=(ev.c.event_timestamp, ev.c.id)).label("pe"),
                  ).where(scope).subquery("g")
    starts = select(
        gaps.c.user_id, func.min(gaps.c.event_timestamp).label("first_event_at"),
        func.max(case((or_(gaps.c.pe.is_(None), gaps.c.es - gaps.c.pe > CAP_SECONDS), gaps.c.event_timestamp)))
        .label("session_start_at"),
    ).group_by(gaps.c.user_id).subquery("a")
    weeks = select(_daily.c.user_id, func.min(_daily.c.week_start).label("first_active_week")).where(
        _scope(_daily.c.user_id, user_ids)).group_by(_daily.c.user_id).subquery("w")
    in_context = or_(ev.c.module.is_not(None), ev.c.unit.is_not(None), ev.c.lesson.is_not(None),
                     ev.c.activity.is_not(None))
    context = select(ev.c.user_id, ev.c.module, ev.c.unit, ev.c.lesson, ev.c.activity,
                     _latest_first(ev).label("rn")).where(in_context, scope).subquery("c")
    company = select(ev.c.user_id, ev.c.company_id, _latest_first(ev).label("rn")).where(
        ev.c.company_id.is_not(None), scope).subquery("co")
    return select(
        latest.c.user_id, starts.c.first_event_at, weeks.c.first_active_week,
        latest.c.event_timestamp.label("last_event_at"), latest.c.id.label("last_event_id"),
        _capped(func.coalesce(latest.c.time_spent_seconds, 0)).label("last_tail_seconds"), starts.c.session_start_at,
        context.c.module, context.c.unit, context.c.lesson, context.c.activity, company.c.company_id,
    ).select_from(
        latest.join(starts, starts.c.user_id == latest.c.user_id)
        .join(weeks, weeks.c.user_id == latest.c.user_id)
        .outerjoin(context, and_(context.c.user_id == latest.c.user_id, context.c.rn == 1))
        .outerjoin(company, and_(company.c.user_id == latest.c.user_id, company.c.rn == 1))
    ).where(latest.c.rn == 1)


_STATE_COLUMNS = ["user_id", "first_event_at", "first_active_week", "last_event_at", "last_event_id",
                  "last_tail_seconds", "session_start_at", "context_module", "context_unit", "context_lesson",
                  "context_activity", "company_id"]


@contextmanager
def hash_joins(session: Session):
    """PostgreSQL: keep the funnel chain off nested loops for the next statement. Its
    CTE estimates are guesses, and a nested loop over (student, activity) pairs is
    quadratic; hash joins are linear whatever the estimate."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(select(func.set_config("enable_nestloop", "off", True)))  # SET LOCAL
    try:
        yield
    finally:
        if postgres:
            session.execute(select(func.set_config("enable_nestloop", "on", True)))


def rebuild(session: Session, *, user_ids: Iterable[int] | None = None, cmap: ContentMap | None = None) -> None:
    """Recompute the three rollup tables from raw events, for everyone or for `user_ids`
    (in chunks, so a bulk import touching thousands of students stays set-based)."""
    from core.retention import horizon

    session.flush()
    cmap = cmap or content_map(session)
    # Days before the retention horizon may have lost raw events: their daily rows stay.
    kept_before = horizon()
    if user_ids is None:
        chunks: list[list[int] | None] = [None]
    else:
        ids = sorted(set(user_ids))
        chunks = [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    if session.get_bind().dialect.name == "postgresql" and (user_ids is None or len(chunks) > 1):
        # After a bulk load the planner's row estimates are stale (a fresh table looks
        # empty), which turns the funnel's joins into quadratic nested loops.
        session.execute(analyze_table(_events))
    for chunk in chunks:
        for model in (TelemetryStudentState, ActivityFunnel, TelemetryDaily):
            statement = delete(model)
            if chunk is not None:
                statement = statement.where(model.user_id.in_(chunk))
            if model is TelemetryDaily and kept_before is not None:
                statement = statement.where(TelemetryDaily.day >= kept_before)
            session.execute(statement)
        daily = daily_select(local_day_sql(session, chunk), chunk)
        if kept_before is not None:
            computed = daily.subquery()
            daily = select(computed).where(computed.c.day >= kept_before)
        session.execute(insert(TelemetryDaily).from_select([c.name for c in daily.selected_columns], daily))
        funnel = funnel_select(cmap, chunk)
        with hash_joins(session):
            # SQLAlchemy puts the CTEs before INSERT, the form both engines accept.
            session.execute(insert(ActivityFunnel).from_select([c.name for c in funnel.selected_columns], funnel))
        session.execute(insert(TelemetryStudentState).from_select(_STATE_COLUMNS, _state_select(chunk)))
        refresh_submissions(session, user_ids=chunk, everyone=chunk is None)
    session.expire_all()


def analyze(engine) -> None:
    """Refresh planner statistics after a bulk load (the CLI runs it after an import or
    a rebuild), so the chart queries pick their covering indexes from the first run."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ROLLUP_TABLES:
            conn.execute(analyze_table(table))
