"""The students behind a figure, one student's timeline, and the at-risk nudge.

Every chart on the analytics page leads here: `student_list` shows the students
behind the clicked figure (alias for everyone but admins, who see names), with last
active day, live streak, completion and latest validator status; `export_csv` and
`export_xlsx` go through core/exports.py (formula injection neutralised).

The nudge sends nothing from the server: roles that may see emails (students.identify)
get a contact list or a `mailto:` link with the students in BCC and a template message,
and `record_nudge` writes one audit row per student (`student.nudge`), which the
student's timeline shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import pandas as pd
from sqlalchemy import Float, case, func, literal, select, type_coerce, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import analytics, audit, exports, models, progress, pseudonyms
from core.access import Actor, can, require
from core.analytics import Filters
from core.db import session_scope
from core.errors import Invalid

MAX_ROWS = 100_000  # never more to the browser
TIMELINE_EVENTS = 500
NUDGE_ACTION = "student.nudge"
NUDGE_SUBJECT = "Checking in on your NGI Learning Module progress"
NUDGE_BODY = ("Hello,\n\nWe noticed you have not been active in the NGI Learning Module for a while. "
              "You are not far from your next milestone: pick up where you left off, and reply to this "
              "message if anything is in your way.\n\nBest regards,\nThe NGI programme team")

_p, _s, _sub = (models.LearningProgress.__table__, models.Student.__table__, models.LearningSubmission.__table__)
_events, _feedback, _audit = (models.LearningTelemetry.__table__, models.LearningFeedback.__table__,
                              models.AuditLog.__table__)


def _latest_status(user_ids: list[int]):
    ranked = select(_sub.c.user_id, _sub.c.validator_status, func.row_number().over(
        partition_by=_sub.c.user_id, order_by=(_sub.c.created_at.desc(), _sub.c.id.desc())).label("rn")
    ).where(_sub.c.user_id.in_(user_ids)).subquery("v")
    return select(ranked.c.user_id, ranked.c.validator_status).where(ranked.c.rn == 1).subquery("latest")


def student_list(session: Session, *, actor: Actor, user_ids: Iterable[int], on: date | None = None) -> pd.DataFrame:
    """One row per student: who (alias, or name and email for admins), last active,
    live streak, completion and latest validator status. `user_id` is kept for opening
    the timeline; pages do not show it to roles without students.identify."""
    require(actor, "analytics.read")
    ids = sorted(set(int(i) for i in user_ids))[:MAX_ROWS]
    columns = ["user_id", "student", "email", "last_active", "streak_days", "completion_percentage",
               "validator_status"]
    if not ids:
        return pd.DataFrame(columns=columns)
    latest = _latest_status(ids)
    stmt = (select(_s.c.id.label("user_id"), _s.c.full_name, _s.c.email, _p.c.last_activity_date,
                   _p.c.current_streak_days, type_coerce(_p.c.completion_percentage, Float).label("completion"),
                   latest.c.validator_status)
            .select_from(_s.outerjoin(_p, _p.c.user_id == _s.c.id).outerjoin(latest, latest.c.user_id == _s.c.id))
            .where(_s.c.id.in_(ids)).order_by(_p.c.last_activity_date.desc(), _s.c.id))
    rows = session.execute(stmt).all()
    on = on or progress.today()
    identify = can(actor, "students.identify")
    names = {} if identify else pseudonyms.aliases([r.user_id for r in rows], actor.role)
    frame = pd.DataFrame([{
        "user_id": r.user_id,
        "student": (r.full_name or r.email) if identify else names[r.user_id],
        "email": r.email if identify else None,
        "last_active": r.last_activity_date,
        # Readers never see a lapsed streak as current, whatever the stored value.
        "streak_days": progress.live_streak(r.current_streak_days, r.last_activity_date, on),
        "completion_percentage": float(r.completion or 0),
        "validator_status": r.validator_status or "no submission",
    } for r in rows], columns=columns)
    return frame if identify else frame.drop(columns=["email"])


# --- who is behind a figure ------------------------------------------------------------


def active_ids(session: Session, *, actor: Actor, day: date, window: int = 1,
               filters: Filters = Filters()) -> list[int]:
    """The students counted in DAU (window 1), WAU (7) or MAU (28) on `day`."""
    require(actor, "analytics.read")
    d = models.TelemetryDaily.__table__.alias("d")
    stmt = select(d.c.user_id).distinct().where(d.c.day <= day, d.c.day > day - timedelta(days=int(window)))
    stmt = analytics._segment(stmt, filters, d.c.user_id, student_module=True)
    return sorted(session.scalars(stmt))


def retention_ids(session: Session, *, actor: Actor, cohort_week: date, week: int,
                  filters: Filters = Filters()) -> list[int]:
    """The students of a retention cell: first active in `cohort_week`, active `week` weeks later."""
    require(actor, "analytics.read")
    d, st = models.TelemetryDaily.__table__.alias("d"), models.TelemetryStudentState.__table__.alias("st")
    target = cohort_week + timedelta(weeks=int(week))
    stmt = (select(d.c.user_id).distinct().select_from(d.join(st, st.c.user_id == d.c.user_id))
            .where(st.c.first_active_week == cohort_week, d.c.week_start == target))
    stmt = analytics._segment(stmt, filters, d.c.user_id, student_module=True)
    return sorted(session.scalars(stmt))


def at_risk_ids(session: Session, *, actor: Actor, filters: Filters = Filters(), on: date | None = None) -> list[int]:
    require(actor, "analytics.read")
    p, s = _p.alias("p"), _s.alias("s")
    stmt = select(p.c.user_id).select_from(p.join(s, s.c.id == p.c.user_id))
    stmt = analytics._at_risk_select(stmt, p, s, filters, on or progress.today())
    return sorted(session.scalars(stmt))


def streak_ids(session: Session, *, actor: Actor, kind: str, streak: str, filters: Filters = Filters(),
               on: date | None = None) -> list[int]:
    """The students of one bar of the streak chart: `kind` current (live) or longest,
    `streak` a bucket name such as "3–6"."""
    require(actor, "analytics.read")
    names = [name for _, _, name in analytics.STREAK_BUCKETS]
    if streak not in names:
        raise Invalid(f"Unknown streak bucket {streak!r}.")
    on = on or progress.today()
    p = _p.alias("p")
    live = case((p.c.last_activity_date >= on - timedelta(days=1), func.coalesce(p.c.current_streak_days, 0)),
                else_=0)
    length = live if kind == "current" else func.coalesce(p.c.longest_streak_days, 0)
    buckets = [(lo, None if hi is None else hi + 1, n) for lo, hi, n in analytics.STREAK_BUCKETS]
    stmt = select(p.c.user_id).select_from(p).where(analytics._bucket(length, buckets) == names.index(streak))
    stmt = analytics._segment(stmt, filters, p.c.user_id, student_module=True, progress=p)
    return sorted(session.scalars(stmt))


def time_ids(session: Session, *, actor: Actor, time_invested: str, filters: Filters = Filters()) -> list[int]:
    """The students of one time-invested bucket who have validated submissions (the
    students the time-against-outcomes bar counts)."""
    require(actor, "analytics.read")
    names = [name for _, _, name in analytics.TIME_BUCKETS]
    if time_invested not in names:
        raise Invalid(f"Unknown time bucket {time_invested!r}.")
    p, o = _p.alias("p"), models.SubmissionOutcome.__table__.alias("o")
    validated = analytics._instant_range(select(o.c.user_id).where(o.c.user_id == p.c.user_id), filters,
                                         o.c.created_at)
    if filters.module:
        validated = validated.where(o.c.module == filters.module)
    stmt = (select(p.c.user_id).select_from(p).where(
        analytics._bucket(p.c.total_minutes_invested, analytics.TIME_BUCKETS) == names.index(time_invested),
        validated.exists()))
    stmt = analytics._segment(stmt, filters, p.c.user_id, student_module=False, progress=p)
    return sorted(session.scalars(stmt))


def hotspot_ids(session: Session, *, actor: Actor, check_id: str, activity: str,
                filters: Filters = Filters()) -> list[int]:
    """The students whose submissions failed `check_id` on `activity`."""
    require(actor, "analytics.read")
    f = models.ValidatorCheckFailure.__table__.alias("f")
    stmt = select(f.c.user_id).distinct().where(f.c.check_id == check_id, f.c.activity_id == activity)
    stmt = analytics._segment(stmt, Filters(cohort=filters.cohort), f.c.user_id, student_module=False)
    if filters.company_id is not None:
        stmt = stmt.where(f.c.company_id == int(filters.company_id))
    return sorted(session.scalars(stmt))


def selection_targets(points: Iterable[Mapping[str, Any]], *, field: str) -> tuple:
    """The distinct figures a plotly selection picked (a click or a box), in order:
    each point's `field` ("x", "y" or "customdata"; customdata lists become tuples)."""
    found = []
    for point in points:
        value = point.get(field)
        if isinstance(value, list):
            value = tuple(value)
        if value is not None and value not in found:
            found.append(value)
    return tuple(found)


def selection_ids(session: Session, *, actor: Actor, chart: str, targets: Iterable,
                  filters: Filters = Filters()) -> list[int]:
    """The students behind the selected bars, together: on "time" (time and outcomes)
    the targets are time buckets, on "hotspot" (failure hotspots) (check, activity) pairs."""
    require(actor, "analytics.read")
    ids: set[int] = set()
    for target in targets:
        if chart == "time":
            ids.update(time_ids(session, actor=actor, time_invested=str(target), filters=filters))
        elif chart == "hotspot":
            check_id, activity = target
            ids.update(hotspot_ids(session, actor=actor, check_id=str(check_id), activity=str(activity),
                                   filters=filters))
        else:
            raise Invalid(f"No drill-down by selection on {chart!r}.")
    return sorted(ids)


def shown(frame: pd.DataFrame, *, actor: Actor) -> pd.DataFrame:
    """The list as a page shows or exports it: no internal ids for roles without
    students.identify."""
    return frame if can(actor, "students.identify") else frame.drop(columns=["user_id"], errors="ignore")


def export_csv(frame: pd.DataFrame, *, actor: Actor) -> bytes:
    return exports.to_csv(shown(frame, actor=actor))


def export_xlsx(frame: pd.DataFrame, *, actor: Actor) -> bytes:
    return exports.to_xlsx(shown(frame, actor=actor), sheet="Students")


# --- timeline -----------------------------------------------------------------------


def timeline(session: Session, *, actor: Actor, user_id: int, limit: int = TIMELINE_EVENTS) -> pd.DataFrame:
    """Events (the latest `limit`), submissions, feedback and nudges of one student on
    one time axis: at (UTC), kind, what."""
    require(actor, "analytics.read")
    uid = int(user_id)
    recent = (select(_events.c.event_timestamp.label("at"), _events.c.event_type, _events.c.activity)
              .where(_events.c.user_id == uid).order_by(_events.c.event_timestamp.desc()).limit(int(limit))
              .subquery("e"))
    parts = [
        select(recent.c.at, literal("event").label("kind"), recent.c.event_type.label("what"),
               recent.c.activity.label("activity")),
        select(_sub.c.created_at, literal("submission"), func.coalesce(_sub.c.validator_status, "pending"),
               _sub.c.activity_id).where(_sub.c.user_id == uid),
        select(_feedback.c.created_at, literal("feedback"), _feedback.c.feedback_type,
               select(_sub.c.activity_id).where(_sub.c.id == _feedback.c.submission_id).scalar_subquery())
        .where(_feedback.c.user_id == uid),
        select(_audit.c.created_at, literal("nudge"), _audit.c.actor_email, literal(None))
        .where(_audit.c.action == NUDGE_ACTION, _audit.c.target_type == "student", _audit.c.target_id == str(uid)),
    ]
    rows = session.execute(union_all(*parts)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["at", "kind", "what", "activity"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame.sort_values("at").reset_index(drop=True)


# --- at-risk action -----------------------------------------------------------------


def contacts(session: Session, *, actor: Actor, user_ids: Iterable[int]) -> pd.DataFrame:
    """Name and email of the chosen students (roles that may see emails only)."""
    require(actor, "students.identify")
    ids = sorted(set(int(i) for i in user_ids))
    rows = session.execute(select(_s.c.full_name, _s.c.email, _s.c.cohort).where(_s.c.id.in_(ids))
                           .order_by(_s.c.full_name, _s.c.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["name", "email", "cohort"])


def contacts_csv(frame: pd.DataFrame) -> bytes:
    return exports.to_csv(frame)


def mailto(emails: Iterable[str], *, subject: str = NUDGE_SUBJECT, body: str = NUDGE_BODY) -> str:
    """A mailto: link with everyone in BCC (students do not see each other)."""
    bcc = ",".join(e for e in emails if e)
    if not bcc:
        raise Invalid("None of the chosen students has an email address.")
    return f"mailto:?bcc={quote(bcc, safe='@,')}&subject={quote(subject)}&body={quote(body)}"


def record_nudge(engine: Engine, *, actor: Actor, user_ids: Iterable[int], channel: str) -> int:
    """Record that staff nudged these students (one audit row each, shown in their
    timelines). Nothing is sent from the server."""
    require(actor, "students.identify")
    ids = sorted(set(int(i) for i in user_ids))
    if not ids:
        raise Invalid("Choose at least one student to nudge.")
    with session_scope(engine, immediate=True) as session:
        known = set(session.scalars(select(_s.c.id).where(_s.c.id.in_(ids))))
        for uid in ids:
            if uid in known:
                audit.record(session, actor, NUDGE_ACTION, target_type="student", target_id=uid,
                             details={"channel": channel})
    return len(known)
