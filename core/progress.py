"""learning_progress, derived from the telemetry rollups and never hand-edited.

`refresh` derives each student's row from their rollup rows (a handful per student),
so the incremental path (every `record_event`) and `recompute` (rebuild the rollup
from raw events, then derive) run the same code and agree by construction; the
rollup's own incremental/rebuild equivalence is what the tests check.

- **Position**: the module/unit/activity of the student's latest event that names one
  (missing levels filled from the catalogue; a lesson names the activity it leads to).
- **Completion**: an activity is complete once it has a validator_pass or an
  activity_complete event; a unit once all its published activities are (a unit of
  lessons only, once the activity it leads to is); a module once all its units are.
  The percentage is over published activities.
- **Time invested**: the rollup's active seconds (gaps between events capped at 30
  minutes), summed and floored to whole minutes.
- **Streaks**: consecutive program-timezone days with any event. The stored current
  streak is the run ending on `last_activity_date` while that run is alive (the student
  was active today or yesterday) and zero once a whole day has passed without activity:
  `refresh` applies this as of today, and `lapse_streaks` (the daily job and
  `ngi progress recompute`) zeroes the streaks that lapsed since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import config, rollup
from core.db import session_scope
from core.models import ActivityFunnel, LearningProgress, TelemetryDaily, TelemetryStudentState

MILESTONES = (3, 7, 14, 30, 60, 100)
_CHUNK = 500


@dataclass(frozen=True)
class Streaks:
    current: int
    longest: int
    last_activity_date: date | None
    milestones: list[dict]


def streaks(days: Iterable[date]) -> Streaks:
    """Streaks over a set of active days; milestones carry the day each was first reached."""
    ordered = sorted(set(days))
    if not ordered:
        return Streaks(0, 0, None, [])
    reached: dict[int, date] = {}
    longest = run = 0
    previous = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        previous = day
        longest = max(longest, run)
        if run in MILESTONES and run not in reached:
            reached[run] = day
    milestones = [{"days": m, "achieved_at": reached[m].isoformat()} for m in MILESTONES if m in reached]
    return Streaks(run, longest, ordered[-1], milestones)


def today() -> date:
    return datetime.now(config.program_timezone()).date()


def live_streak(current: int | None, last_activity_date: date | None, on: date | None = None) -> int:
    """The stored streak if the student was active today or yesterday, else 0."""
    on = on or today()
    if not current or last_activity_date is None or last_activity_date < on - timedelta(days=1):
        return 0
    return current


def _unit_requirements(cmap: rollup.ContentMap) -> dict[str, set[str]]:
    requirements = {}
    for unit in cmap.units:
        own = {a for a in cmap.activities if cmap.ancestor(a, "unit") == unit}
        if not own:
            later = [a for a in cmap.activities if cmap.order[a] > cmap.order[unit]]
            own = {later[0]} if later else set()
        requirements[unit] = own
    return requirements


def derive(cmap: rollup.ContentMap, *, days: list[tuple[date, int]], completed: dict[str, datetime],
           submitted: dict[str, datetime], state: TelemetryStudentState | None, on: date | None = None) -> dict:
    """The learning_progress columns for one student from their rollup rows, with the
    current streak as it stands on `on` (default today)."""
    streak = streaks(day for day, _ in days)
    done = {a for a in cmap.activities if a in completed}
    requirements = _unit_requirements(cmap)
    units_done = {u for u, need in requirements.items() if need and need <= done}
    modules_done = [
        m for m in cmap.modules
        if (units := [u for u in cmap.units if cmap.ancestor(u, "module") == m]) and set(units) <= units_done
    ]
    total = len(cmap.activities)
    percentage = Decimal(round(100 * len(done) / total, 2)).quantize(Decimal("0.01")) if total else Decimal("0.00")
    values = {
        "activities_completed": len(done),
        "units_completed": len(units_done),
        "modules_completed": len(modules_done),
        "completion_percentage": percentage,
        "current_streak_days": live_streak(streak.current, streak.last_activity_date, on),
        "longest_streak_days": streak.longest,
        "last_activity_date": streak.last_activity_date,
        "streak_milestones": streak.milestones,
        "total_minutes_invested": sum(seconds for _, seconds in days) // 60,
        "capstone_submitted": "capstone" in submitted,
        "capstone_submitted_at": submitted.get("capstone"),
        "current_module": None, "current_unit": None, "current_activity": None,
        "last_session_start": None,
    }
    if state is not None:
        activity = state.context_activity or cmap.lesson_activity.get(state.context_lesson or "")
        anchor = state.context_activity or state.context_lesson or state.context_unit
        values["current_activity"] = activity
        unit = state.context_unit or cmap.ancestor(anchor, "unit")
        values["current_unit"] = unit
        values["current_module"] = state.context_module or cmap.ancestor(unit or anchor, "module")
        values["last_session_start"] = state.session_start_at
        if state.company_id is not None:
            values["selected_company_id"] = state.company_id
    return values


def refresh(session: Session, user_ids: Iterable[int] | None = None, *, cmap: rollup.ContentMap | None = None,
            on: date | None = None) -> int:
    """Derive learning_progress from the rollup for `user_ids` (default: every student
    with telemetry or a progress row), streaks as of `on`. Returns rows written."""
    session.flush()
    on = on or today()
    cmap = cmap or rollup.content_map(session)
    if user_ids is None:
        ids = set(session.scalars(select(TelemetryStudentState.user_id)))
        ids |= set(session.scalars(select(LearningProgress.user_id)))
    else:
        ids = set(user_ids)
    ordered = sorted(ids)
    written = 0
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        days: dict[int, list[tuple[date, int]]] = {u: [] for u in chunk}
        for row in session.execute(
            select(TelemetryDaily.user_id, TelemetryDaily.day, TelemetryDaily.active_seconds)
            .where(TelemetryDaily.user_id.in_(chunk))
        ):
            days[row.user_id].append((row.day, row.active_seconds))
        completed: dict[int, dict[str, datetime]] = {u: {} for u in chunk}
        submitted: dict[int, dict[str, datetime]] = {u: {} for u in chunk}
        for funnel in session.execute(
            select(ActivityFunnel.user_id, ActivityFunnel.activity, ActivityFunnel.completed_at,
                   ActivityFunnel.submission_at).where(ActivityFunnel.user_id.in_(chunk))
        ):
            if funnel.completed_at is not None:
                completed[funnel.user_id][funnel.activity] = funnel.completed_at
            if funnel.submission_at is not None:
                submitted[funnel.user_id][funnel.activity] = funnel.submission_at
        states = {s.user_id: s for s in session.scalars(
            select(TelemetryStudentState).where(TelemetryStudentState.user_id.in_(chunk)))}
        existing = {p.user_id: p for p in session.scalars(
            select(LearningProgress).where(LearningProgress.user_id.in_(chunk)))}
        for user_id in chunk:
            values = derive(cmap, days=days[user_id], completed=completed[user_id],
                            submitted=submitted[user_id], state=states.get(user_id), on=on)
            progress = existing.get(user_id)
            if progress is None:
                progress = LearningProgress(user_id=user_id)
                session.add(progress)
            for key, value in values.items():
                if getattr(progress, key) != value:
                    setattr(progress, key, value)
            written += 1
        session.flush()
    return written


def recompute(session: Session, student_id: int | None = None, *, on: date | None = None) -> int:
    """Rebuild the rollup from raw events, then derive progress as of `on` (default
    today): the same result the incremental updates reach. For one student, or everyone."""
    cmap = rollup.content_map(session)
    users = None if student_id is None else [student_id]
    rollup.rebuild(session, user_ids=users, cmap=cmap)
    return refresh(session, users, cmap=cmap, on=on)


def lapsed(on: date):
    """The learning_progress rows whose stored current streak has lapsed by `on`."""
    return (LearningProgress.current_streak_days != 0) & or_(
        LearningProgress.last_activity_date.is_(None),
        LearningProgress.last_activity_date < on - timedelta(days=1))


def lapse_streaks(engine: Engine, *, on: date | None = None) -> int:
    """Zero every current streak that has lapsed by `on` (default today): one UPDATE,
    idempotent, so the daily job may run it as often as it likes. Returns rows changed."""
    with session_scope(engine, immediate=True) as session:
        return lapse_streaks_in(session, on=on)


def lapse_streaks_in(session: Session, *, on: date | None = None) -> int:
    result = session.execute(update(LearningProgress).where(lapsed(on or today()))
                             .values(current_streak_days=0).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


SNAPSHOT_FIELDS = (
    "current_module", "current_unit", "current_activity", "modules_completed", "units_completed",
    "activities_completed", "completion_percentage", "current_streak_days", "longest_streak_days",
    "last_activity_date", "streak_milestones", "total_minutes_invested", "last_session_start",
    "capstone_submitted", "capstone_submitted_at", "selected_company_id",
)


def snapshot(session: Session) -> dict[int, dict]:
    """Every progress row's derived fields, for comparing two computations."""
    return {
        p.user_id: {f: getattr(p, f) for f in SNAPSHOT_FIELDS}
        for p in session.scalars(select(LearningProgress).order_by(LearningProgress.user_id))
    }
