"""Retention of raw telemetry: events older than `NGI_TELEMETRY_RETENTION_DAYS` are
deleted once the rollups cover them; the rollups stay. Unset keeps every event.

An event is deleted only when all of these hold, so every figure the analytics page
shows is unchanged, and a later rollup rebuild gives the same rows:

- its program-timezone day is before the horizon (today minus N days);
- the daily rollup row of its (student, day) counts at least as many events as are
  stored for that day (the rollup has seen them all);
- it is not a funnel step (the funnel is re-derived from those events whenever a new
  step of the activity arrives), nor the student's first or latest event (the rollup
  state's first active week and session come from them).

`rollup.rebuild` leaves the daily rows of days before the horizon as they are, since
their raw events may be gone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit, config
from core.access import Actor, require
from core.db import session_scope
from core.errors import Invalid
from core.models import LearningTelemetry, TelemetryDaily, TelemetryStudentState

DELETE_BATCH = 2000
# Funnel steps and completions (core/rollup.py reads them back to refresh a funnel row).
KEPT_TYPES = ("lesson_view", "activity_start", "submission", "validator_pass", "feedback_issued",
              "activity_complete")


def retention_days() -> int | None:
    value = config.env("NGI_TELEMETRY_RETENTION_DAYS")
    if value is None:
        return None
    try:
        days = int(value)
    except ValueError:
        raise Invalid(f"NGI_TELEMETRY_RETENTION_DAYS must be a whole number of days, got {value!r}.") from None
    if days < 1:
        raise Invalid(f"NGI_TELEMETRY_RETENTION_DAYS must be at least 1, got {days}.")
    return days


def horizon(today: date | None = None) -> date | None:
    """The first program-timezone day whose raw events are all kept; None = keep all."""
    days = retention_days()
    if days is None:
        return None
    today = today or datetime.now(config.program_timezone()).date()
    return today - timedelta(days=days)


@dataclass
class RetentionPlan:
    horizon: date | None
    event_ids: list[int] = field(default_factory=list)
    by_month_type: Counter = field(default_factory=Counter)  # (YYYY-MM, event_type) -> events
    uncovered_days: int = 0  # (student, day) pairs the daily rollup does not cover: kept
    deleted: int = 0

    def months(self) -> dict[str, int]:
        totals: Counter = Counter()
        for (month, _event_type), count in self.by_month_type.items():
            totals[month] += count
        return dict(sorted(totals.items()))


def plan(session: Session, *, actor: Actor, today: date | None = None) -> RetentionPlan:
    """Which events retention would delete now, and why the others stay."""
    require(actor, "telemetry.retention")
    kept_from = horizon(today)
    result = RetentionPlan(horizon=kept_from)
    if kept_from is None:
        return result
    tz = config.program_timezone()
    # Any event on a day before the horizon is older than this instant (a day is at most 26h).
    before = datetime.combine(kept_from + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    keep_ids = set(session.scalars(select(TelemetryStudentState.last_event_id)))
    first_at = {user_id: first for user_id, first in session.execute(
        select(TelemetryStudentState.user_id, TelemetryStudentState.first_event_at))}
    stored: Counter = Counter()
    candidates: dict[tuple[int, date], list[tuple[int, str]]] = defaultdict(list)
    rows = session.execute(
        select(LearningTelemetry.id, LearningTelemetry.user_id, LearningTelemetry.event_type,
               LearningTelemetry.event_timestamp).where(LearningTelemetry.event_timestamp < before),
        execution_options={"yield_per": 5000},
    )
    for event_id, user_id, event_type, ts in rows:
        if ts is None:
            continue
        day = ts.astimezone(tz).date()
        if day >= kept_from:
            continue
        stored[(user_id, day)] += 1
        first = first_at.get(user_id)
        if event_type in KEPT_TYPES or event_id in keep_ids or first is None or ts <= first:
            continue
        candidates[(user_id, day)].append((event_id, event_type))
    if not candidates:
        return result
    counted = {
        (user_id, day): events
        for user_id, day, events in session.execute(
            select(TelemetryDaily.user_id, TelemetryDaily.day, TelemetryDaily.events)
            .where(TelemetryDaily.day < kept_from)
        )
    }
    for key, events in candidates.items():
        if counted.get(key, 0) < stored[key]:
            result.uncovered_days += 1
            continue
        month = key[1].strftime("%Y-%m")
        for event_id, event_type in events:
            result.event_ids.append(event_id)
            result.by_month_type[(month, event_type)] += 1
    return result


def apply(engine: Engine, *, actor: Actor, dry_run: bool = False, today: date | None = None) -> RetentionPlan:
    """Delete what `plan` names, in short transactions; audited unless a dry run."""
    require(actor, "telemetry.retention")
    with session_scope(engine) as session:
        result = plan(session, actor=actor, today=today)
    if dry_run or not result.event_ids or result.horizon is None:
        return result
    ids = result.event_ids
    for start in range(0, len(ids), DELETE_BATCH):
        with session_scope(engine, immediate=True) as session:
            session.execute(delete(LearningTelemetry).where(LearningTelemetry.id.in_(ids[start:start + DELETE_BATCH])))
    result.deleted = len(ids)
    with session_scope(engine) as session:
        audit.record(session, actor, "telemetry.retention", target_type="telemetry",
                     details={"horizon": result.horizon.isoformat(), "deleted": result.deleted,
                              "by_month": result.months()})
    return result
