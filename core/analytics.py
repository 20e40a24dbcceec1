"""Cohort analytics for the analytics page: one function per chart, each one SQL
query over the rollups (never raw events loaded into pandas), on SQLite and PostgreSQL.

Filters (`Filters`): *cohort* and *company* select students (students.cohort, the
student's company in learning_progress). *module* narrows activity-level charts
(funnel, time vs outcomes, failure hotspots) to that module's activities and
selects students currently in that module for student-level charts (active students,
retention, streaks, at-risk). *start*/*end* are program-timezone dates.

The funnel counts each student once per step and in order (see core/rollup/): a step
counts a student only if they reached every earlier step first. A student who submitted
without a recorded lesson_view therefore counts in no ordered step of that activity; the
`any_order` column shows everyone who reached the step at all, so the gap is visible
instead of silently inflating later steps.

Queries are SQLAlchemy Core over the mapped tables; benchmarks/baselines.py runs the
same builders over raw events, and the tests check both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import (
    Float,
    Select,
    case,
    cast,
    distinct,
    false,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from core import config, exports, models, progress, pseudonyms, rollup
from core.access import Actor, can, require

AT_RISK_DAYS = 7
STEP_LABELS = {
    "lesson_view": "Lesson viewed", "activity_start": "Activity started", "submission": "Submitted",
    "validator_pass": "Validators passed", "feedback_issued": "Feedback issued",
}
STREAK_BUCKETS = [(0, 0, "0"), (1, 2, "1–2"), (3, 6, "3–6"), (7, 13, "7–13"), (14, 29, "14–29"),
                  (30, 59, "30–59"), (60, 99, "60–99"), (100, None, "100+")]
TIME_BUCKETS = [(0, 60, "< 1 h"), (60, 180, "1–3 h"), (180, 360, "3–6 h"), (360, 720, "6–12 h"),
                (720, 1440, "12–24 h"), (1440, None, "24 h +")]


@dataclass(frozen=True)
class Filters:
    cohort: str | None = None
    company_id: int | None = None
    module: str | None = None
    start: date | None = None
    end: date | None = None


_daily, _funnel, _state = (models.TelemetryDaily.__table__, models.ActivityFunnel.__table__,
                           models.TelemetryStudentState.__table__)
_outcomes, _failures = models.SubmissionOutcome.__table__, models.ValidatorCheckFailure.__table__
_progress, _students, _companies = (models.LearningProgress.__table__, models.Student.__table__,
                                    models.LearningCompany.__table__)


def _segment(stmt: Select, f: Filters, user_id, *, student_module: bool, progress=None) -> Select:
    """Narrow to the filtered students: cohort, company and (for student-level charts)
    current module. `progress` is the learning_progress already in the FROM, if any."""
    if f.cohort:
        st = _students.alias("st")
        stmt = stmt.join(st, st.c.id == user_id).where(st.c.cohort == f.cohort)
    if f.company_id is not None or (student_module and f.module):
        p = progress
        if p is None:
            p = _progress.alias("p")
            stmt = stmt.join(p, p.c.user_id == user_id)
        if f.company_id is not None:
            stmt = stmt.where(p.c.selected_company_id == int(f.company_id))
        if student_module and f.module:
            stmt = stmt.where(p.c.current_module == f.module)
    return stmt


def _day_range(stmt: Select, f: Filters, day) -> Select:
    if f.start:
        stmt = stmt.where(day >= f.start)
    if f.end:
        stmt = stmt.where(day <= f.end)
    return stmt


def _instant_range(stmt: Select, f: Filters, instant) -> Select:
    """Program-timezone dates as UTC instants: from the start of `start` to the start
    of the day after `end`."""
    tz = config.program_timezone()
    if f.start:
        stmt = stmt.where(instant >= datetime.combine(f.start, time(), tz))
    if f.end:
        stmt = stmt.where(instant < datetime.combine(f.end + timedelta(days=1), time(), tz))
    return stmt


def _frame(session: Session, statement) -> pd.DataFrame:
    result = session.execute(statement)
    columns = list(result.keys())
    # Plain tuples: pandas probing SQLAlchemy Row objects costs more than the query.
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=columns)


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def _bucket(value, buckets) -> ColumnElement[int]:
    """The index of the first bucket whose upper bound `value` is under."""
    return case(*[(value < high, n) for n, (_, high, _) in enumerate(buckets) if high is not None],
                else_=len(buckets) - 1)


# --- filters ------------------------------------------------------------------------


def filter_options(session: Session, *, actor: Actor) -> dict:
    require(actor, "analytics.read")
    cohorts = sorted(c for c in session.scalars(select(_students.c.cohort).distinct()) if c)
    companies = [(c.id, c.ticker) for c in session.execute(
        select(_companies.c.id, _companies.c.ticker).order_by(_companies.c.ticker))]
    cmap = rollup.content_map(session)
    modules = [k for k, kind in cmap.kind.items() if kind == "module"]
    return {"cohorts": cohorts, "companies": companies, "modules": modules}



# --- active students ----------------------------------------------------------------


def active_students(session: Session, *, actor: Actor, filters: Filters = Filters(),
                    today: date | None = None) -> pd.DataFrame:
    """DAU, WAU, MAU and stickiness per day by the standard definitions (core/active_users.py)."""
    from core import active_users  # it builds on this module's filters

    return active_users.active_students(session, actor=actor, filters=filters, today=today)


# --- funnel -------------------------------------------------------------------------


def _funnel_select(session: Session, funnel, filters: Filters) -> Select:
    """Per activity, students at each step in order and in any order, over `funnel`
    (rows shaped like learning_activity_funnel)."""
    columns = []
    for n, step in enumerate(rollup.FUNNEL_STEPS, start=1):
        columns.append(func.sum(case((funnel.c.ordered_steps >= n, 1), else_=0)).label("in_order_" + str(n)))
        columns.append(func.sum(case((funnel.c[step + "_at"].is_not(None), 1), else_=0)).label("any_order_" + str(n)))
    stmt = select(funnel.c.activity, func.count().label("students"), *columns).select_from(funnel)
    stmt = _segment(stmt, filters, funnel.c.user_id, student_module=False)
    stmt = _instant_range(stmt, filters, funnel.c.first_at)
    if filters.module:
        cmap = rollup.content_map(session)
        activities = [a for a, kind in cmap.kind.items() if kind == "activity"
                      and cmap.ancestor(a, "module") == filters.module]
        stmt = stmt.where(funnel.c.activity.in_(activities))
    return stmt.group_by(funnel.c.activity)


def _funnel_frame(session: Session, wide: pd.DataFrame) -> pd.DataFrame:
    cmap = rollup.content_map(session)
    rows = []
    for record in wide.to_dict("records"):
        for n, step in enumerate(rollup.FUNNEL_STEPS, start=1):
            rows.append({"activity": record["activity"], "step_index": n, "step": step,
                         "label": STEP_LABELS[step], "students": int(record[f"in_order_{n}"] or 0),
                         "any_order": int(record[f"any_order_{n}"] or 0)})
    frame = pd.DataFrame(rows, columns=["activity", "step_index", "step", "label", "students", "any_order"])
    frame["_order"] = frame["activity"].map(lambda a: cmap.order.get(a, 10**6))
    return frame.sort_values(["_order", "activity", "step_index"]).drop(columns="_order").reset_index(drop=True)


def funnel(session: Session, *, actor: Actor, filters: Filters = Filters()) -> pd.DataFrame:
    """Per activity and step: students who reached the step in order, and in any order."""
    require(actor, "analytics.read")
    return _funnel_frame(session, _frame(session, _funnel_select(session, _funnel.alias("a"), filters)))


# --- retention ----------------------------------------------------------------------


def _retention_select(days, cohorts, filters: Filters) -> Select:
    """Students per (cohort week, active week), from `days` (user_id, week_start) and
    `cohorts` (user_id, cohort_week)."""
    r = select(days.c.week_start, days.c.user_id).distinct().subquery("r")
    stmt = (select(cohorts.c.cohort_week, r.c.week_start, func.count().label("students"))
            .select_from(r.join(cohorts, cohorts.c.user_id == r.c.user_id)))
    stmt = _segment(stmt, filters, r.c.user_id, student_module=True)
    stmt = _day_range(stmt, filters, cohorts.c.cohort_week)
    return stmt.group_by(cohorts.c.cohort_week, r.c.week_start)


def _retention_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = _dates(frame, "cohort_week", "week_start")
    frame["students"] = frame["students"].astype(int)
    frame["week"] = frame.apply(lambda r: (r["week_start"] - r["cohort_week"]).days // 7, axis=1) if len(frame) else []
    sizes = frame[frame["week"] == 0].set_index("cohort_week")["students"]
    frame["cohort_size"] = frame["cohort_week"].map(sizes).fillna(0).astype(int)
    # A percentage of the cohort, as the heatmap shows it.
    frame["retention"] = (100 * frame["students"] / frame["cohort_size"].where(frame["cohort_size"] > 0)).round(1)
    columns = ["cohort_week", "week", "students", "cohort_size", "retention"]
    return frame[columns].sort_values(["cohort_week", "week"]).reset_index(drop=True)


def retention(session: Session, *, actor: Actor, filters: Filters = Filters()) -> pd.DataFrame:
    """Weekly cohorts by first-activity week: percentage of each cohort active N weeks later."""
    require(actor, "analytics.read")
    cohorts = select(_state.c.user_id, _state.c.first_active_week.label("cohort_week")).subquery("c")
    return _retention_frame(_frame(session, _retention_select(_daily.alias("d"), cohorts, filters)))


# --- time invested vs outcomes ------------------------------------------------------


def time_vs_outcomes(session: Session, *, actor: Actor, filters: Filters = Filters()) -> pd.DataFrame:
    """Students bucketed by time invested, with their validator pass rate (passed over
    validated submissions) and mean rubric score (composite of their feedback)."""
    require(actor, "analytics.read")
    o = _outcomes.alias("o")
    outcomes = select(
        o.c.user_id, func.sum(case((o.c.validator_status == "passed", 1), else_=0)).label("passed"),
        func.count().label("validated"), func.avg(o.c.rubric_composite, type_=Float).label("rubric"),
    )
    if filters.module:
        outcomes = outcomes.where(o.c.module == filters.module)
    per_student = _instant_range(outcomes, filters, o.c.created_at).group_by(o.c.user_id).subquery("o")
    p = _progress.alias("p")
    bucket = _bucket(p.c.total_minutes_invested, TIME_BUCKETS)
    stmt = select(
        bucket.label("bucket"), func.count().label("students"),
        func.avg(cast(per_student.c.passed, Float) / per_student.c.validated).label("pass_rate"),
        func.avg(per_student.c.rubric, type_=Float).label("rubric_score"),
    ).select_from(p.join(per_student, per_student.c.user_id == p.c.user_id))
    stmt = _segment(stmt, filters, p.c.user_id, student_module=False, progress=p)
    frame = _frame(session, stmt.group_by(bucket).order_by(bucket))
    frame.insert(0, "time_invested", frame["bucket"].map(lambda n: TIME_BUCKETS[n][2]))
    frame["students"] = frame["students"].astype(int)
    frame["pass_rate"] = pd.to_numeric(frame["pass_rate"], errors="coerce").astype(float).round(4)
    frame["rubric_score"] = pd.to_numeric(frame["rubric_score"], errors="coerce").astype(float).round(2)
    return frame.drop(columns="bucket").reset_index(drop=True)


# --- streaks ------------------------------------------------------------------------


def streak_distribution(session: Session, *, actor: Actor, filters: Filters = Filters(),
                        on: date | None = None) -> pd.DataFrame:
    """Students per streak length: the live current streak (broken if the student was
    not active today or yesterday) and the longest streak."""
    require(actor, "analytics.read")
    on = on or progress.today()
    p = _progress.alias("p")
    live = case((p.c.last_activity_date >= on - timedelta(days=1), func.coalesce(p.c.current_streak_days, 0)),
                else_=0)
    buckets = [(lo, None if hi is None else hi + 1, n) for lo, hi, n in STREAK_BUCKETS]
    parts = []
    for kind, length in (("current", live), ("longest", func.coalesce(p.c.longest_streak_days, 0))):
        bucket = _bucket(length, buckets)
        part = select(literal(kind).label("kind"), bucket.label("bucket"), func.count().label("students"))
        part = _segment(part.select_from(p), filters, p.c.user_id, student_module=True, progress=p)
        parts.append(part.group_by(bucket))
    frame = _frame(session, union_all(*parts))
    grid = pd.DataFrame([(kind, n, name) for kind in ("current", "longest") for n, (_, _, name) in
                         enumerate(STREAK_BUCKETS)], columns=["kind", "bucket", "streak"])
    frame = grid.merge(frame, on=["kind", "bucket"], how="left")
    frame["students"] = frame["students"].fillna(0).astype(int)
    return frame[["kind", "streak", "students"]]


# --- validator failure hotspots -----------------------------------------------------


def failure_hotspots(session: Session, *, actor: Actor, filters: Filters = Filters(), limit: int = 50) -> pd.DataFrame:
    """Which validator checks fail most, per activity and company: every submission
    version's failed checks (learning_check_failures, expanded from validator_errors,
    whether stored as a report or as the flat findings list)."""
    require(actor, "analytics.read")
    f, co = _failures.alias("f"), _companies.alias("co")
    failures, activity, company = (func.count().label("failures"), f.c.activity_id.label("activity"),
                                   co.c.ticker.label("company"))
    stmt = (select(f.c.check_id, activity, company, failures, func.count(distinct(f.c.user_id)).label("students"))
            .select_from(f.join(co, co.c.id == f.c.company_id)))
    stmt = _segment(stmt, Filters(cohort=filters.cohort), f.c.user_id, student_module=False)
    stmt = _instant_range(stmt, filters, f.c.created_at)
    if filters.company_id is not None:
        stmt = stmt.where(f.c.company_id == int(filters.company_id))
    if filters.module:
        stmt = stmt.where(f.c.module == filters.module)
    stmt = (stmt.group_by(f.c.check_id, f.c.activity_id, co.c.ticker)
            .order_by(failures.desc(), f.c.check_id, activity, company).limit(int(limit)))
    frame = _frame(session, stmt)
    for column in ("failures", "students"):
        frame[column] = frame[column].astype(int)
    return frame


# --- at risk ------------------------------------------------------------------------


def _at_risk_select(stmt: Select, p, s, filters: Filters, on: date) -> Select:
    """Narrow `stmt` over learning_progress `p` (and students `s`, when filtering by
    cohort) to the students at risk on `on`."""
    stmt = _segment(stmt, Filters(company_id=filters.company_id, module=filters.module), p.c.user_id,
                    student_module=True, progress=p)
    stmt = stmt.where(
        p.c.last_activity_date.is_not(None),
        p.c.last_activity_date <= on - timedelta(days=AT_RISK_DAYS),
        # Not finished: neither every published activity passed nor the capstone in.
        func.coalesce(p.c.completion_percentage, 0) < 100,
        or_(p.c.capstone_submitted.is_(None), p.c.capstone_submitted == false()),
    )
    if filters.cohort:
        stmt = stmt.where(s.c.cohort == filters.cohort)
    return _day_range(stmt, filters, p.c.last_activity_date)


def at_risk(session: Session, *, actor: Actor, filters: Filters = Filters(), on: date | None = None) -> pd.DataFrame:
    """Students active before, silent for 7+ days and not finished, longest-silent first.
    Names and emails only for roles with students.identify; others see their alias."""
    require(actor, "analytics.read")
    on = on or progress.today()
    p, s, co = _progress.alias("p"), _students.alias("s"), _companies.alias("co")
    stmt = select(
        p.c.user_id, s.c.full_name, s.c.email, s.c.cohort, co.c.ticker.label("company"), p.c.last_activity_date,
        p.c.current_module, p.c.current_unit, p.c.current_activity,
        type_coerce(p.c.completion_percentage, Float).label("completion_percentage"),
    ).select_from(p.join(s, s.c.id == p.c.user_id).outerjoin(co, co.c.id == p.c.selected_company_id))
    stmt = _at_risk_select(stmt, p, s, filters, on).order_by(p.c.last_activity_date, p.c.user_id)
    frame = _dates(_frame(session, stmt), "last_activity_date")
    frame["days_inactive"] = frame["last_activity_date"].map(lambda d: (on - d).days).astype("Int64")
    frame["completion_percentage"] = pd.to_numeric(frame["completion_percentage"]).astype(float)
    if can(actor, "students.identify"):
        frame["student"] = frame["full_name"].fillna(frame["email"])
        columns = ["student", "email", "user_id"]
    else:
        frame["student"] = frame["user_id"].map(pseudonyms.aliases(frame["user_id"], actor.role))
        columns = ["student"]
    columns += ["cohort", "company", "last_activity_date", "days_inactive", "current_module", "current_unit",
                "current_activity", "completion_percentage"]
    return frame[columns].reset_index(drop=True)


def at_risk_csv(session: Session, *, actor: Actor, filters: Filters = Filters(), on: date | None = None) -> bytes:
    return exports.to_csv(at_risk(session, actor=actor, filters=filters, on=on))


def at_risk_count(session: Session, *, actor: Actor, on: date | None = None) -> int:
    """How many students are at risk right now (for the home page)."""
    require(actor, "analytics.read")
    p = _progress.alias("p")
    stmt = _at_risk_select(select(func.count()).select_from(p), p, None, Filters(), on or progress.today())
    return int(session.execute(stmt).scalar_one())
