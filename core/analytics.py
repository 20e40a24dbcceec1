"""Cohort analytics for the analytics page: one function per chart, each one SQL
query over the rollups (never raw events loaded into pandas), on SQLite and PostgreSQL.

Filters (`Filters`): *cohort* and *company* select students (students.cohort, the
student's company in learning_progress). *module* narrows activity-level charts
(funnel, time vs outcomes, failure hotspots) to that module's activities and
selects students currently in that module for student-level charts (active students,
retention, streaks, at-risk). *start*/*end* are program-timezone dates.

The funnel counts each student once per step and in order (see core/rollup.py): a step
counts a student only if they reached every earlier step first. A student who submitted
without a recorded lesson_view therefore counts in no ordered step of that activity; the
`any_order` column shows everyone who reached the step at all, so the gap is visible
instead of silently inflating later steps.

`raw_*` functions compute the same figures straight from learning_telemetry; the tests
check they agree with the rollup and the benchmark times them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.orm import Session

from core import config, exports, progress, pseudonyms, rollup
from core.access import Actor, can, require
from core.db import UTCDateTime
from core.models import LearningCompany, Student

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


class _Query:
    """Builds a WHERE clause and typed parameters (dates bind as dates on both engines)."""

    def __init__(self):
        self.where: list[str] = []
        self.joins: list[str] = []
        self.params: dict = {}
        self.types: dict = {}

    def param(self, name: str, value, type_=None) -> str:
        self.params[name] = value
        if type_ is not None:
            self.types[name] = type_
        return f":{name}"

    def segment(self, f: Filters, alias: str, *, student_module: bool) -> None:
        if f.cohort:
            self.joins.append(f"JOIN students st ON st.id = {alias}.user_id")
            self.where.append(f"st.cohort = {self.param('cohort', f.cohort)}")
        if f.company_id is not None or (student_module and f.module):
            if alias != "p":
                self.joins.append(f"JOIN learning_progress p ON p.user_id = {alias}.user_id")
            if f.company_id is not None:
                self.where.append(f"p.selected_company_id = {self.param('company_id', int(f.company_id))}")
            if student_module and f.module:
                self.where.append(f"p.current_module = {self.param('module', f.module)}")

    def day_range(self, f: Filters, column: str) -> None:
        if f.start:
            self.where.append(f"{column} >= {self.param('start', f.start, Date())}")
        if f.end:
            self.where.append(f"{column} <= {self.param('end', f.end, Date())}")

    def instant_range(self, f: Filters, column: str) -> None:
        tz = config.program_timezone()
        if f.start:
            self.where.append(f"{column} >= {self.param('t0', datetime.combine(f.start, time(), tz), UTCDateTime())}")
        if f.end:
            end = datetime.combine(f.end + timedelta(days=1), time(), tz)
            self.where.append(f"{column} < {self.param('t1', end, UTCDateTime())}")

    def sql(self, body: str) -> str:
        return body.format(joins=" ".join(dict.fromkeys(self.joins)),
                           where=" AND ".join(self.where) if self.where else "1 = 1")

    def frame(self, session: Session, body: str) -> pd.DataFrame:
        statement = text(self.sql(body))
        if self.types:
            statement = statement.bindparams(*(bindparam(n, type_=t) for n, t in self.types.items()))
        result = session.execute(statement, self.params)
        columns = list(result.keys())
        # Plain tuples: pandas probing SQLAlchemy Row objects costs more than the query.
        return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=columns)


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def _module_activities(session: Session, module: str) -> list[str]:
    cmap = rollup.content_map(session)
    return [a for a in cmap.kind if cmap.kind[a] == "activity" and cmap.ancestor(a, "module") == module]


# --- filters ------------------------------------------------------------------------


def filter_options(session: Session, *, actor: Actor) -> dict:
    require(actor, "analytics.read")
    cohorts = sorted(c for c in session.scalars(select(Student.cohort).distinct()) if c)
    companies = [(c.id, c.ticker) for c in session.execute(
        select(LearningCompany.id, LearningCompany.ticker).order_by(LearningCompany.ticker))]
    cmap = rollup.content_map(session)
    modules = [k for k, kind in cmap.kind.items() if kind == "module"]
    return {"cohorts": cohorts, "companies": companies, "modules": modules}


# --- active students ----------------------------------------------------------------

_ACTIVE_SQL = """
    SELECT 'day' AS granularity, r.day AS period_start, COUNT(*) AS active_students,
           CAST(NULL AS FLOAT) AS dau_mau
    FROM {src} r {{joins}} WHERE {{where}} GROUP BY r.day
    UNION ALL
    SELECT 'week', r.week_start, COUNT(DISTINCT r.user_id), CAST(NULL AS FLOAT)
    FROM {src} r {{joins}} WHERE {{where}} GROUP BY r.week_start
    UNION ALL
    SELECT 'month', r.month_start, COUNT(DISTINCT r.user_id),
           CAST(COUNT(*) AS FLOAT) / COUNT(DISTINCT r.day) / COUNT(DISTINCT r.user_id)
    FROM {src} r {{joins}} WHERE {{where}} GROUP BY r.month_start
"""


def active_students(session: Session, *, actor: Actor, filters: Filters = Filters()) -> pd.DataFrame:
    """Daily, weekly and monthly active students; month rows carry DAU/MAU (the
    month's average daily actives over its active days, divided by its actives)."""
    require(actor, "analytics.read")
    q = _Query()
    q.segment(filters, "r", student_module=True)
    q.day_range(filters, "r.day")
    return _active_frame(q.frame(session, _ACTIVE_SQL.format(src="learning_telemetry_daily")))


def _active_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = _dates(frame, "period_start")
    frame["active_students"] = frame["active_students"].astype(int)
    frame["dau_mau"] = pd.to_numeric(frame["dau_mau"], errors="coerce").round(4)
    order = {"day": 0, "week": 1, "month": 2}
    return frame.sort_values(["granularity", "period_start"], key=lambda s: s.map(order) if s.name == "granularity"
                             else s).reset_index(drop=True)


def _raw_days_sql(session: Session) -> str:
    """Distinct (student, day) pairs computed from raw events, with week and month."""
    sql = rollup._Sql(session)
    day = sql.local_day("event_timestamp")
    return (f"(SELECT user_id, d AS day, {sql.week('d')} AS week_start, {sql.month('d')} AS month_start FROM "
            f"(SELECT DISTINCT user_id, {day} AS d FROM learning_telemetry) x)")


def raw_active_students(session: Session, filters: Filters = Filters()) -> pd.DataFrame:
    q = _Query()
    q.segment(filters, "r", student_module=True)
    q.day_range(filters, "r.day")
    return _active_frame(q.frame(session, _ACTIVE_SQL.format(src=_raw_days_sql(session))))


# --- funnel -------------------------------------------------------------------------


def _funnel_query(session: Session, filters: Filters) -> _Query:
    q = _Query()
    q.segment(filters, "a", student_module=False)
    q.instant_range(filters, "a.first_at")
    if filters.module:
        names = [q.param(f"act{i}", key) for i, key in enumerate(_module_activities(session, filters.module))]
        q.where.append(f"a.activity IN ({', '.join(names) or 'NULL'})")
    return q


_FUNNEL_SQL = """
    SELECT a.activity, COUNT(*) AS students, {columns}
    FROM {src} a {{joins}} WHERE {{where}} GROUP BY a.activity
"""


def _funnel_columns() -> str:
    parts = []
    for n, step in enumerate(rollup.FUNNEL_STEPS, start=1):
        parts.append(f"SUM(CASE WHEN a.ordered_steps >= {n} THEN 1 ELSE 0 END) AS in_order_{n}")
        parts.append(f"SUM(CASE WHEN a.{step}_at IS NOT NULL THEN 1 ELSE 0 END) AS any_order_{n}")
    return ", ".join(parts)


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
    q = _funnel_query(session, filters)
    body = _FUNNEL_SQL.format(columns=_funnel_columns(), src="learning_activity_funnel")
    return _funnel_frame(session, q.frame(session, body))


def raw_funnel(session: Session, filters: Filters = Filters()) -> pd.DataFrame:
    q = _funnel_query(session, filters)
    src = f"({rollup.funnel_select_sql(rollup.content_map(session), '1 = 1')})"
    body = _FUNNEL_SQL.format(columns=_funnel_columns(), src=src)
    with rollup.hash_joins(session):
        wide = q.frame(session, body)
    return _funnel_frame(session, wide)


# --- retention ----------------------------------------------------------------------

_RETENTION_SQL = """
    SELECT c.cohort_week, r.week_start, COUNT(*) AS students
    FROM (SELECT DISTINCT week_start, user_id FROM {src} d) r
    JOIN {cohorts} c ON c.user_id = r.user_id {{joins}}
    WHERE {{where}} GROUP BY c.cohort_week, r.week_start
"""


def _retention_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = _dates(frame, "cohort_week", "week_start")
    frame["students"] = frame["students"].astype(int)
    frame["week"] = frame.apply(lambda r: (r["week_start"] - r["cohort_week"]).days // 7, axis=1) if len(frame) else []
    sizes = frame[frame["week"] == 0].set_index("cohort_week")["students"]
    frame["cohort_size"] = frame["cohort_week"].map(sizes).fillna(0).astype(int)
    frame["retention"] = (frame["students"] / frame["cohort_size"].where(frame["cohort_size"] > 0)).round(4)
    columns = ["cohort_week", "week", "students", "cohort_size", "retention"]
    return frame[columns].sort_values(["cohort_week", "week"]).reset_index(drop=True)


def _retention_query(filters: Filters) -> _Query:
    q = _Query()
    q.segment(filters, "r", student_module=True)
    q.day_range(filters, "c.cohort_week")
    return q


def retention(session: Session, *, actor: Actor, filters: Filters = Filters()) -> pd.DataFrame:
    """Weekly cohorts by first-activity week: share of each cohort active N weeks later."""
    require(actor, "analytics.read")
    q = _retention_query(filters)
    body = _RETENTION_SQL.format(
        src="learning_telemetry_daily",
        cohorts="(SELECT user_id, first_active_week AS cohort_week FROM learning_telemetry_state)",
    )
    return _retention_frame(q.frame(session, body))


def raw_retention(session: Session, filters: Filters = Filters()) -> pd.DataFrame:
    q = _retention_query(filters)
    days = _raw_days_sql(session)
    body = _RETENTION_SQL.format(
        src=days, cohorts=f"(SELECT user_id, MIN(week_start) AS cohort_week FROM {days} d GROUP BY user_id)"
    )
    return _retention_frame(q.frame(session, body))


# --- time invested vs outcomes ------------------------------------------------------


def _bucket_case(column: str, buckets) -> tuple[str, str]:
    label = " ".join(
        f"WHEN {column} < {high} THEN '{name}'" if high is not None else f"ELSE '{name}'"
        for low, high, name in buckets
    )
    order = " ".join(
        f"WHEN {column} < {high} THEN {n}" if high is not None else f"ELSE {n}"
        for n, (low, high, name) in enumerate(buckets)
    )
    return f"CASE {label} END", f"CASE {order} END"


def time_vs_outcomes(session: Session, *, actor: Actor, filters: Filters = Filters()) -> pd.DataFrame:
    """Students bucketed by time invested, with their validator pass rate (passed over
    validated submissions) and mean rubric score (composite of their feedback)."""
    require(actor, "analytics.read")
    q = _Query()
    q.segment(filters, "p", student_module=False)
    sub = _Query()
    if filters.module:
        sub.where.append(f"o.module = {sub.param('module_s', filters.module)}")
    sub.instant_range(filters, "o.created_at")
    q.params.update(sub.params)
    q.types.update(sub.types)
    label, order = _bucket_case("p.total_minutes_invested", TIME_BUCKETS)
    body = f"""
        SELECT {label} AS time_invested, {order} AS bucket, COUNT(*) AS students,
               AVG(CAST(o.passed AS FLOAT) / o.validated) AS pass_rate, AVG(o.rubric) AS rubric_score
        FROM learning_progress p
        JOIN (
            SELECT o.user_id, SUM(CASE WHEN o.validator_status = 'passed' THEN 1 ELSE 0 END) AS passed,
                   COUNT(*) AS validated, AVG(o.rubric_composite) AS rubric
            FROM learning_submission_outcomes o
            WHERE {sub.sql("{where}")}
            GROUP BY o.user_id
        ) o ON o.user_id = p.user_id
        {{joins}} WHERE {{where}}
        GROUP BY {label}, {order}
        ORDER BY {order}
    """
    frame = q.frame(session, body)
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
    q = _Query()
    q.segment(filters, "p", student_module=True)
    live = f"CASE WHEN p.last_activity_date >= {q.param('alive', on - timedelta(days=1), Date())} " \
           "THEN COALESCE(p.current_streak_days, 0) ELSE 0 END"
    parts = []
    for kind, column in (("current", live), ("longest", "COALESCE(p.longest_streak_days, 0)")):
        label, order = _bucket_case(column, [(lo, None if hi is None else hi + 1, n) for lo, hi, n in STREAK_BUCKETS])
        parts.append(f"SELECT '{kind}' AS kind, {label} AS streak, {order} AS bucket, COUNT(*) AS students "
                     f"FROM learning_progress p {{joins}} WHERE {{where}} GROUP BY {label}, {order}")
    frame = q.frame(session, " UNION ALL ".join(parts))
    grid = pd.DataFrame([(kind, n, name) for kind in ("current", "longest") for n, (_, _, name) in
                         enumerate(STREAK_BUCKETS)], columns=["kind", "bucket", "streak"])
    frame = grid.merge(frame.drop(columns="streak"), on=["kind", "bucket"], how="left")
    frame["students"] = frame["students"].fillna(0).astype(int)
    return frame[["kind", "streak", "students"]]


# --- validator failure hotspots -----------------------------------------------------


def failure_hotspots(session: Session, *, actor: Actor, filters: Filters = Filters(), limit: int = 50) -> pd.DataFrame:
    """Which validator checks fail most, per activity and company: every submission
    version's failed checks (learning_check_failures, expanded from validator_errors,
    whether stored as a report or as the flat findings list)."""
    require(actor, "analytics.read")
    q = _Query()
    q.segment(Filters(cohort=filters.cohort), "f", student_module=False)
    q.instant_range(filters, "f.created_at")
    if filters.company_id is not None:
        q.where.append(f"f.company_id = {q.param('company_id', int(filters.company_id))}")
    if filters.module:
        q.where.append(f"f.module = {q.param('module', filters.module)}")
    body = f"""
        SELECT f.check_id, f.activity_id AS activity, co.ticker AS company,
               COUNT(*) AS failures, COUNT(DISTINCT f.user_id) AS students
        FROM learning_check_failures f JOIN learning_companies co ON co.id = f.company_id
        {{joins}} WHERE {{where}}
        GROUP BY f.check_id, f.activity_id, co.ticker
        ORDER BY failures DESC, f.check_id, activity, company
        LIMIT {int(limit)}
    """
    frame = q.frame(session, body)
    for column in ("failures", "students"):
        frame[column] = frame[column].astype(int)
    return frame


# --- at risk ------------------------------------------------------------------------


def _at_risk_query(filters: Filters, on: date) -> _Query:
    q = _Query()
    q.segment(Filters(company_id=filters.company_id, module=filters.module), "p", student_module=True)
    q.where += [
        "p.last_activity_date IS NOT NULL",
        f"p.last_activity_date <= {q.param('cutoff', on - timedelta(days=AT_RISK_DAYS), Date())}",
        # Not finished: neither every published activity passed nor the capstone in.
        "COALESCE(p.completion_percentage, 0) < 100",
        "(p.capstone_submitted IS NULL OR p.capstone_submitted = FALSE)",
    ]
    if filters.cohort:
        q.where.append(f"s.cohort = {q.param('cohort', filters.cohort)}")
    q.day_range(filters, "p.last_activity_date")
    return q


def at_risk(session: Session, *, actor: Actor, filters: Filters = Filters(), on: date | None = None) -> pd.DataFrame:
    """Students active before, silent for 7+ days and not finished, longest-silent first.
    Names and emails only for roles with students.identify; others see their alias."""
    require(actor, "analytics.read")
    on = on or progress.today()
    q = _at_risk_query(filters, on)
    body = """
        SELECT p.user_id, s.full_name, s.email, s.cohort, co.ticker AS company, p.last_activity_date,
               p.current_module, p.current_unit, p.current_activity, p.completion_percentage
        FROM learning_progress p JOIN students s ON s.id = p.user_id
        LEFT JOIN learning_companies co ON co.id = p.selected_company_id
        {joins} WHERE {where}
        ORDER BY p.last_activity_date, p.user_id
    """
    frame = _dates(q.frame(session, body), "last_activity_date")
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
    q = _at_risk_query(Filters(), on or progress.today())
    statement = text(q.sql("SELECT COUNT(*) FROM learning_progress p {joins} WHERE {where}")).bindparams(
        *(bindparam(n, type_=t) for n, t in q.types.items()))
    return int(session.execute(statement, q.params).scalar_one())
