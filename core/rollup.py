"""The telemetry rollups: maintained event by event, rebuildable from raw events.

Three derived tables (see core/models.py, migration 0005):

- `learning_telemetry_daily`: one row per (student, program-timezone day) with event
  counts by type and active seconds;
- `learning_activity_funnel`: one row per (student, activity) with the first time each
  funnel step was seen, how many steps were reached in order, and completion;
- `learning_telemetry_state`: per student, the latest event and context, so that a new
  event updates the rollup without reading the student's history.

Definitions shared by the incremental path (Python) and the rebuild (one SQL statement
per table, on both engines), so that both give identical rows:

- **day**: the event's calendar date in the program timezone (`NGI_TIMEZONE`).
- **active seconds**: each event is credited with the time until the student's next
  event, capped at 30 minutes (an idle tab is not study); the student's latest event is
  credited with its own `time_spent_seconds`, also capped. Time is counted on the day of
  the event it is credited to. Whole seconds (timestamps floored) on every path.
- **funnel**: lesson_view → activity_start → submission → validator_pass →
  feedback_issued. A step is reached *in order* at the first event of that step at or
  after the time the previous step was reached. A lesson_view counts for the activity its
  lesson leads to (the next activity in the catalogue).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from core import config
from core.models import (
    ActivityFunnel,
    LearningContent,
    LearningTelemetry,
    TelemetryDaily,
    SubmissionOutcome,
    TelemetryStudentState,
    ValidatorCheckFailure,
)

CAP_SECONDS = 30 * 60
FUNNEL_STEPS = ("lesson_view", "activity_start", "submission", "validator_pass", "feedback_issued")
COMPLETION_TYPES = ("validator_pass", "activity_complete")
# event type -> daily counter column; everything else counts as other_events.
COUNTERS = {
    "lesson_view": "lesson_views",
    "activity_start": "activity_starts",
    "submission": "submissions",
    "validator_pass": "validator_passes",
    "validator_fail": "validator_fails",
    "feedback_issued": "feedback_issued",
}
_FUNNEL_TYPES = tuple(dict.fromkeys(FUNNEL_STEPS + COMPLETION_TYPES))
# Events after which a submission's validator result or feedback may have changed.
_SUBMISSION_TYPES = ("submission", "validator_pass", "validator_fail", "feedback_issued")
_CHUNK = 500


# --- content structure ------------------------------------------------------------


@dataclass
class ContentMap:
    """The catalogue as the rollup and progress need it: parents, order, publication."""

    parent: dict[str, str] = field(default_factory=dict)  # key -> parent key
    kind: dict[str, str] = field(default_factory=dict)  # key -> module/unit/lesson/activity
    activities: list[str] = field(default_factory=list)  # published, in catalogue order
    units: list[str] = field(default_factory=list)  # published, in catalogue order
    modules: list[str] = field(default_factory=list)
    lesson_activity: dict[str, str] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # key -> position in the tree walk

    def ancestor(self, key: str | None, kind: str) -> str | None:
        while key is not None and self.kind.get(key) != kind:
            key = self.parent.get(key)
        return key


def content_map(session: Session) -> ContentMap:
    """From learning_content; the built-in catalogue when nothing is seeded yet."""
    rows = session.execute(
        select(LearningContent.id, LearningContent.parent_id, LearningContent.content_key,
               LearningContent.content_type, LearningContent.sequence_order, LearningContent.is_published)
    ).all()
    if rows:
        by_id = {r.id: r for r in rows}
        children: dict[int | None, list] = {}
        for r in rows:
            children.setdefault(r.parent_id, []).append(r)
        nodes = []

        def walk(parent_id, published):
            for r in sorted(children.get(parent_id, []), key=lambda r: (r.sequence_order, r.id)):
                parent = by_id.get(r.parent_id)
                nodes.append((r.content_key, r.content_type, parent.content_key if parent else None,
                              published and bool(r.is_published)))
                walk(r.id, published and bool(r.is_published))

        walk(None, True)
    else:
        from core.catalogue import TREE

        nodes = []

        def walk_tree(items, parent_key):
            for node in sorted(items, key=lambda n: n["sequence_order"]):
                nodes.append((node["content_key"], node["content_type"], parent_key, True))
                walk_tree(node.get("children", []), node["content_key"])

        walk_tree(TREE, None)
    cmap = ContentMap()
    pending_lessons: list[str] = []
    for key, kind, parent, published in nodes:
        cmap.kind[key] = kind
        cmap.order[key] = len(cmap.order)
        if parent:
            cmap.parent[key] = parent
        if kind == "lesson":
            pending_lessons.append(key)
        elif kind == "activity":
            for lesson in pending_lessons:
                cmap.lesson_activity[lesson] = key
            pending_lessons = []
        if published:
            {"activity": cmap.activities, "unit": cmap.units, "module": cmap.modules}.get(kind, []).append(key)
    return cmap


# --- shared definitions -----------------------------------------------------------


def local_day(ts: datetime) -> date:
    return ts.astimezone(config.program_timezone()).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def _epoch(ts: datetime) -> int:
    return int(ts.timestamp() // 1)


def _cap(seconds: int | None) -> int:
    return max(0, min(int(seconds or 0), CAP_SECONDS))


def funnel_activity(cmap: ContentMap, activity: str | None, lesson: str | None) -> str | None:
    return activity or (cmap.lesson_activity.get(lesson) if lesson else None)


# --- incremental ------------------------------------------------------------------


def apply_event(session: Session, event: LearningTelemetry, *, cmap: ContentMap | None = None) -> None:
    """Fold one just-inserted event into the rollup. An event older than the student's
    latest (a late arrival) rebuilds that student instead, which gives the same rows."""
    ts = event.event_timestamp
    state = session.get(TelemetryStudentState, event.user_id)
    if state is not None and ts < state.last_event_at:
        rebuild(session, user_ids=[event.user_id], cmap=cmap)
        return
    with session.no_autoflush:
        _apply(session, event, state, cmap)
    session.flush()


def _apply(session: Session, event: LearningTelemetry, state: TelemetryStudentState | None,
           cmap: ContentMap | None) -> None:
    ts = event.event_timestamp
    day = local_day(ts)
    if state is None:
        state = TelemetryStudentState(
            user_id=event.user_id, first_event_at=ts, first_active_week=week_start(day), session_start_at=ts,
            last_event_at=ts, last_event_id=event.id, last_tail_seconds=0,
        )
        session.add(state)
    else:
        gap = _epoch(ts) - _epoch(state.last_event_at)
        _daily(session, event.user_id, local_day(state.last_event_at)).active_seconds += (
            min(gap, CAP_SECONDS) - state.last_tail_seconds
        )
        if gap > CAP_SECONDS:
            state.session_start_at = ts
    tail = _cap(event.time_spent_seconds)
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
    if event.event_type in _FUNNEL_TYPES:
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


def funnel_row(events: Iterable[tuple[str, datetime]]) -> dict:
    """The funnel columns for one (student, activity) from its (event_type, time) pairs."""
    events = list(events)
    first = {t: min((ts for et, ts in events if et == t), default=None) for t in FUNNEL_STEPS}
    reached, previous = 0, None
    for step in FUNNEL_STEPS:
        candidates = [ts for et, ts in events if et == step and (previous is None or ts >= previous)]
        if not candidates:
            break
        previous, reached = min(candidates), reached + 1
    return {
        "first_at": min(ts for _, ts in events),
        **{f"{step}_at": first[step] for step in FUNNEL_STEPS},
        "ordered_steps": reached,
        "completed_at": min((ts for et, ts in events if et in COMPLETION_TYPES), default=None),
    }


def _refresh_funnel_row(session: Session, user_id: int, activity: str, cmap: ContentMap) -> None:
    rows = session.execute(
        select(LearningTelemetry.event_type, LearningTelemetry.event_timestamp, LearningTelemetry.activity,
               LearningTelemetry.lesson)
        .where(LearningTelemetry.user_id == user_id, LearningTelemetry.event_type.in_(_FUNNEL_TYPES))
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


# --- rebuild in SQL ----------------------------------------------------------------


class _Sql:
    """The few expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, session: Session):
        self.dialect = session.get_bind().dialect.name
        self.tz = config.program_timezone()
        self._session = session

    def epoch(self, col: str) -> str:
        if self.dialect == "postgresql":
            return f"CAST(FLOOR(EXTRACT(EPOCH FROM {col})) AS BIGINT)"
        return f"CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER)"

    def local_day(self, col: str) -> str:
        if self.dialect == "postgresql":
            name = self.tz.key
            if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", name):
                raise ValueError(f"NGI_TIMEZONE {name!r} is not a timezone name")
            return f"CAST(timezone('{name}', {col}) AS DATE)"
        # SQLite knows no timezones: pick the UTC offset by the range the instant falls in.
        low, high = self._session.execute(
            select(func.min(LearningTelemetry.event_timestamp), func.max(LearningTelemetry.event_timestamp))
        ).one()
        spans = utc_offset_spans(low, high)
        if len(spans) == 1:
            return f"date({col}, '{spans[0][1]} seconds')"
        cases = " ".join(f"WHEN {col} < '{until:%Y-%m-%d %H:%M:%S}' THEN '{offset} seconds'"
                         for until, offset in spans[:-1])
        return f"date({col}, CASE {cases} ELSE '{spans[-1][1]} seconds' END)"

    def week(self, day: str) -> str:
        if self.dialect == "postgresql":
            return f"CAST(date_trunc('week', {day}) AS DATE)"
        return f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"

    def month(self, day: str) -> str:
        if self.dialect == "postgresql":
            return f"CAST(date_trunc('month', {day}) AS DATE)"
        return f"date({day}, 'start of month')"


def utc_offset_spans(low: datetime | None, high: datetime | None) -> list[tuple[datetime, int]]:
    """[(until_utc, offset_seconds)] covering low..high: the program timezone's offsets
    and the UTC instants at which each stops applying (the last one never does)."""
    tz = config.program_timezone()
    now = datetime.now(timezone.utc)
    low = (low or now) - timedelta(days=2)
    high = (high or now) + timedelta(days=2)
    spans: list[tuple[datetime, int]] = []
    instant = low.replace(minute=0, second=0, microsecond=0)
    offset = int(instant.astimezone(tz).utcoffset().total_seconds())
    while instant <= high:
        step = instant + timedelta(hours=1)
        nxt = int(step.astimezone(tz).utcoffset().total_seconds())
        if nxt != offset:
            # Find the minute it changed (a few zones switch on the half hour).
            lo, hi = 0, 60
            while hi - lo > 1:
                mid = (lo + hi) // 2
                moved = instant + timedelta(minutes=mid)
                if int(moved.astimezone(tz).utcoffset().total_seconds()) == offset:
                    lo = mid
                else:
                    hi = mid
            change = instant + timedelta(minutes=hi)
            spans.append((change.astimezone(timezone.utc).replace(tzinfo=None), offset))
            offset = nxt
        instant = step
    spans.append((datetime.max, offset))
    return spans


def _scope(user_ids: list[int] | None, column: str = "user_id") -> str:
    if user_ids is None:
        return "1 = 1"
    return f"{column} IN ({', '.join(str(int(u)) for u in user_ids)})"


def _lesson_case(cmap: ContentMap) -> str:
    if not cmap.lesson_activity:
        return "activity"
    whens = " ".join(f"WHEN '{_q(lesson)}' THEN '{_q(act)}'" for lesson, act in cmap.lesson_activity.items())
    return f"COALESCE(activity, CASE lesson {whens} END)"


def _q(value: str) -> str:
    return value.replace("'", "''")


def daily_select_sql(sql: _Sql, scope: str) -> str:
    """SELECT producing learning_telemetry_daily rows from raw events."""
    day = sql.local_day("event_timestamp")
    epoch = sql.epoch("event_timestamp")
    counters = ", ".join(
        f"SUM(CASE WHEN event_type = '{etype}' THEN 1 ELSE 0 END) AS {column}" for etype, column in COUNTERS.items()
    )
    known = ", ".join(f"'{t}'" for t in COUNTERS)
    return f"""
        SELECT user_id, d AS day, {sql.week('d')} AS week_start, {sql.month('d')} AS month_start,
               COUNT(*) AS events, {counters},
               SUM(CASE WHEN event_type NOT IN ({known}) THEN 1 ELSE 0 END) AS other_events,
               SUM(credit) AS active_seconds
        FROM (
            SELECT user_id, event_type, d,
                   CASE WHEN nx IS NULL THEN
                            CASE WHEN COALESCE(time_spent_seconds, 0) > {CAP_SECONDS} THEN {CAP_SECONDS}
                                 WHEN COALESCE(time_spent_seconds, 0) < 0 THEN 0
                                 ELSE COALESCE(time_spent_seconds, 0) END
                        WHEN nx - es > {CAP_SECONDS} THEN {CAP_SECONDS}
                        ELSE nx - es END AS credit
            FROM (
                SELECT user_id, event_type, time_spent_seconds, {day} AS d, {epoch} AS es,
                       LEAD({epoch}) OVER (PARTITION BY user_id ORDER BY event_timestamp, id) AS nx
                FROM learning_telemetry WHERE {scope}
            ) w
        ) e
        GROUP BY user_id, d"""


def funnel_select_sql(cmap: ContentMap, scope: str) -> str:
    """SELECT producing learning_activity_funnel rows from raw events (the ordered chain)."""
    types = ", ".join(f"'{t}'" for t in _FUNNEL_TYPES)
    firsts = ", ".join(
        f"MIN(CASE WHEN event_type = '{step}' THEN ts END) AS {step}_at" for step in FUNNEL_STEPS
    )
    done = ", ".join(f"'{t}'" for t in COMPLETION_TYPES)
    chain = []
    previous = "f.lesson_view_at"
    for n, step in enumerate(FUNNEL_STEPS[1:], start=2):
        join = "f" if n == 2 else f"s{n - 1}"
        chain.append(f"""s{n} AS (
            SELECT ev.user_id, ev.act, MIN(ev.ts) AS t FROM ev
            JOIN {join} ON {join}.user_id = ev.user_id AND {join}.act = ev.act
            WHERE ev.event_type = '{step}' AND ev.ts >= {previous}
            GROUP BY ev.user_id, ev.act)""")
        previous = f"s{n}.t"
    joins = " ".join(f"LEFT JOIN s{n} ON s{n}.user_id = f.user_id AND s{n}.act = f.act" for n in range(2, 6))
    ordered = " ".join(f"WHEN s{n}.t IS NOT NULL THEN {n}" for n in range(5, 1, -1))
    return f"""
        WITH ev AS (
            SELECT user_id, {_lesson_case(cmap)} AS act, event_type, event_timestamp AS ts
            FROM learning_telemetry WHERE event_type IN ({types}) AND {scope}
        ),
        f AS (
            SELECT user_id, act, MIN(ts) AS first_at, {firsts},
                   MIN(CASE WHEN event_type IN ({done}) THEN ts END) AS completed_at
            FROM ev WHERE act IS NOT NULL GROUP BY user_id, act
        ),
        {', '.join(chain)}
        SELECT f.user_id, f.act AS activity, f.first_at, f.lesson_view_at, f.activity_start_at, f.submission_at,
               f.validator_pass_at, f.feedback_issued_at,
               CASE {ordered} WHEN f.lesson_view_at IS NOT NULL THEN 1 ELSE 0 END AS ordered_steps,
               f.completed_at
        FROM f {joins}"""


def _state_select_sql(sql: _Sql, scope: str) -> str:
    epoch = sql.epoch("event_timestamp")
    tail = (f"CASE WHEN COALESCE(l.time_spent_seconds, 0) > {CAP_SECONDS} THEN {CAP_SECONDS} "
            "WHEN COALESCE(l.time_spent_seconds, 0) < 0 THEN 0 ELSE COALESCE(l.time_spent_seconds, 0) END")
    return f"""
        SELECT l.user_id, a.first_event_at, w.first_active_week, l.event_timestamp AS last_event_at,
               l.id AS last_event_id, {tail} AS last_tail_seconds, a.session_start_at,
               c.module, c.unit, c.lesson, c.activity, co.company_id
        FROM (
            SELECT user_id, id, event_timestamp, time_spent_seconds,
                   ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY event_timestamp DESC, id DESC) AS rn
            FROM learning_telemetry WHERE {scope}
        ) l
        JOIN (
            SELECT user_id, MIN(event_timestamp) AS first_event_at,
                   MAX(CASE WHEN pe IS NULL OR es - pe > {CAP_SECONDS} THEN event_timestamp END) AS session_start_at
            FROM (
                SELECT user_id, event_timestamp, {epoch} AS es,
                       LAG({epoch}) OVER (PARTITION BY user_id ORDER BY event_timestamp, id) AS pe
                FROM learning_telemetry WHERE {scope}
            ) g GROUP BY user_id
        ) a ON a.user_id = l.user_id
        JOIN (
            SELECT user_id, MIN(week_start) AS first_active_week FROM learning_telemetry_daily
            WHERE {scope} GROUP BY user_id
        ) w ON w.user_id = l.user_id
        LEFT JOIN (
            SELECT user_id, module, unit, lesson, activity,
                   ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY event_timestamp DESC, id DESC) AS rn
            FROM learning_telemetry
            WHERE (module IS NOT NULL OR unit IS NOT NULL OR lesson IS NOT NULL OR activity IS NOT NULL)
              AND {scope}
        ) c ON c.user_id = l.user_id AND c.rn = 1
        LEFT JOIN (
            SELECT user_id, company_id,
                   ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY event_timestamp DESC, id DESC) AS rn
            FROM learning_telemetry WHERE company_id IS NOT NULL AND {scope}
        ) co ON co.user_id = l.user_id AND co.rn = 1
        WHERE l.rn = 1"""


_DAILY_COLUMNS = ("user_id, day, week_start, month_start, events, lesson_views, activity_starts, submissions, "
                  "validator_passes, validator_fails, feedback_issued, other_events, active_seconds")
_FUNNEL_COLUMNS = ("user_id, activity, first_at, lesson_view_at, activity_start_at, submission_at, "
                   "validator_pass_at, feedback_issued_at, ordered_steps, completed_at")
_STATE_COLUMNS = ("user_id, first_event_at, first_active_week, last_event_at, last_event_id, last_tail_seconds, "
                  "session_start_at, context_module, context_unit, context_lesson, context_activity, company_id")


@contextmanager
def hash_joins(session: Session):
    """PostgreSQL: keep the funnel chain off nested loops for the next statement. Its
    CTE estimates are guesses, and a nested loop over (student, activity) pairs is
    quadratic; hash joins are linear whatever the estimate."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL enable_nestloop = off"))
    try:
        yield
    finally:
        if postgres:
            session.execute(text("SET LOCAL enable_nestloop = on"))


def rebuild(session: Session, *, user_ids: Iterable[int] | None = None, cmap: ContentMap | None = None) -> None:
    """Recompute the three rollup tables from raw events, for everyone or for `user_ids`
    (in chunks, so a bulk import touching thousands of students stays set-based)."""
    session.flush()
    cmap = cmap or content_map(session)
    sql = _Sql(session)
    if user_ids is None:
        chunks: list[list[int] | None] = [None]
    else:
        ids = sorted(set(user_ids))
        chunks = [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    if sql.dialect == "postgresql" and (user_ids is None or len(chunks) > 1):
        # After a bulk load the planner's row estimates are stale (a fresh table looks
        # empty), which turns the funnel's joins into quadratic nested loops.
        session.execute(text("ANALYZE learning_telemetry"))
    from core.retention import horizon

    # Days before the retention horizon may have lost raw events: their rows stay.
    kept_before = horizon()
    for chunk in chunks:
        scope = _scope(chunk)
        for model in (TelemetryStudentState, ActivityFunnel, TelemetryDaily):
            statement = delete(model)
            if chunk is not None:
                statement = statement.where(model.user_id.in_(chunk))
            if model is TelemetryDaily and kept_before is not None:
                statement = statement.where(TelemetryDaily.day >= kept_before)
            session.execute(statement)
        daily = daily_select_sql(sql, scope)
        if kept_before is not None:
            daily = f"SELECT * FROM ({daily}) d WHERE d.day >= '{kept_before.isoformat()}'"
        session.execute(text(f"INSERT INTO learning_telemetry_daily ({_DAILY_COLUMNS}) {daily}"))
        funnel = funnel_select_sql(cmap, scope)
        # WITH … INSERT is the form both engines accept for a CTE-fed insert.
        head, _, body = funnel.partition("SELECT f.user_id")
        with hash_joins(session):
            session.execute(text(f"{head} INSERT INTO learning_activity_funnel ({_FUNNEL_COLUMNS}) "
                                 f"SELECT f.user_id{body}"))
        session.execute(text(f"INSERT INTO learning_telemetry_state ({_STATE_COLUMNS}) "
                             f"{_state_select_sql(sql, scope)}"))
        refresh_submissions(session, user_ids=chunk, everyone=chunk is None)
    session.expire_all()



def refresh_submissions(session: Session, *, submission_ids: list[int] | None = None,
                        user_ids: list[int] | None = None, everyone: bool = False) -> None:
    """Re-derive the outcome row and the failed checks (from validator_errors) of some
    submissions, of some students' submissions, or of all."""
    if everyone:
        scope = "1 = 1"
        targets = [delete(model) for model in (ValidatorCheckFailure, SubmissionOutcome)]
    elif submission_ids:
        scope = _scope(submission_ids, "s.id")
        targets = [delete(model).where(model.submission_id.in_(submission_ids))
                   for model in (ValidatorCheckFailure, SubmissionOutcome)]
    elif user_ids:
        scope = _scope(user_ids, "s.user_id")
        targets = [delete(model).where(model.user_id.in_(user_ids))
                   for model in (ValidatorCheckFailure, SubmissionOutcome)]
    else:
        return
    for target in targets:
        session.execute(target)
    session.execute(text(f"""
        INSERT INTO learning_submission_outcomes (submission_id, user_id, company_id, activity_id, module,
                                                  created_at, validator_status, rubric_composite)
        SELECT s.id, s.user_id, s.company_id, s.activity_id, s.module, s.created_at, s.validator_status, fb.rubric
        FROM learning_submissions s
        LEFT JOIN (SELECT submission_id, AVG(rubric_composite) AS rubric FROM learning_feedback
                   WHERE rubric_composite IS NOT NULL GROUP BY submission_id) fb ON fb.submission_id = s.id
        WHERE s.validator_status IN ('passed', 'failed') AND {scope}"""))
    # validator_errors comes in two shapes: a report ({status, checks: [{id, status,
    # findings}]}) or the flat findings list core.submissions mirrors from one
    # ([{check, sheet, cell, ...}], one entry per finding of a failed check).
    if session.get_bind().dialect.name == "postgresql":
        shapes = [
            ("CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s.validator_errors -> 'checks') "
             "= 'array' THEN s.validator_errors -> 'checks' ELSE '[]'::jsonb END) AS c(value)",
             "c.value ->> 'id'", "c.value ->> 'status' = 'failed'"),
            ("CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(s.validator_errors) = 'array' "
             "THEN s.validator_errors ELSE '[]'::jsonb END) AS c(value)",
             "c.value ->> 'check'", "s.validator_status = 'failed'"),
        ]
    else:
        valid = "CASE WHEN json_valid(s.validator_errors) THEN s.validator_errors END"
        shapes = [
            (f"JOIN json_each({valid}, '$.checks') c", "json_extract(c.value, '$.id')",
             "json_extract(c.value, '$.status') = 'failed'"),
            (f"JOIN json_each(CASE WHEN json_type({valid}) = 'array' THEN s.validator_errors END) c",
             "json_extract(c.value, '$.check')", "s.validator_status = 'failed'"),
        ]
    for expand, check_id, failed in shapes:
        session.execute(text(f"""
            INSERT INTO learning_check_failures (submission_id, check_id, user_id, company_id, activity_id, module,
                                                 created_at)
            SELECT DISTINCT s.id, SUBSTR({check_id}, 1, 100), s.user_id, s.company_id, s.activity_id, s.module,
                   s.created_at
            FROM learning_submissions s {expand}
            WHERE s.validator_errors IS NOT NULL AND {failed} AND {check_id} IS NOT NULL AND {scope}"""))

ROLLUP_TABLES = ("learning_telemetry", "learning_telemetry_daily", "learning_activity_funnel",
                 "learning_telemetry_state", "learning_check_failures", "learning_submission_outcomes",
                 "learning_progress")


def analyze(engine) -> None:
    """Refresh planner statistics after a bulk load (the CLI runs it after an import or
    a rebuild), so the chart queries pick their covering indexes from the first run."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ROLLUP_TABLES:
            conn.exec_driver_sql(f"ANALYZE {table}")
