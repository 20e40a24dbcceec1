"""What the rollup means, shared by the per-event path and the rebuild: the catalogue
as a content map, the program-timezone day, week and month, capped active time and
the ordered funnel (see core/rollup/__init__.py for the definitions in words)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import config, sql_functions
from core.models import LearningTelemetry

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
FUNNEL_TYPES = tuple(dict.fromkeys(FUNNEL_STEPS + COMPLETION_TYPES))


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
    """From the cached content tree (core.content_tree): built once per content change,
    not on every event; the seed catalogue when nothing is seeded yet. Archived and
    draft nodes (or their descendants) are not counted."""
    from core import content_tree

    return content_tree.current(session).content_map()


# --- shared definitions -----------------------------------------------------------


def local_day(ts: datetime) -> date:
    return ts.astimezone(config.program_timezone()).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def epoch(ts: datetime) -> int:
    return int(ts.timestamp() // 1)


def capped_seconds(seconds: int | None) -> int:
    return max(0, min(int(seconds or 0), CAP_SECONDS))


def funnel_activity(cmap: ContentMap, activity: str | None, lesson: str | None) -> str | None:
    return activity or (cmap.lesson_activity.get(lesson) if lesson else None)




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


def _utc_offset(instant: datetime, tz: tzinfo) -> int:
    return int((instant.astimezone(tz).utcoffset() or timedelta()).total_seconds())


def utc_offset_spans(low: datetime | None, high: datetime | None) -> list[tuple[datetime, int]]:
    """[(until_utc, offset_seconds)] covering low..high: the program timezone's offsets
    and the UTC instants at which each stops applying (the last one never does)."""
    tz = config.program_timezone()
    now = datetime.now(UTC)
    low = (low or now) - timedelta(days=2)
    high = (high or now) + timedelta(days=2)
    spans: list[tuple[datetime, int]] = []
    instant = low.replace(minute=0, second=0, microsecond=0)
    offset = _utc_offset(instant, tz)
    while instant <= high:
        step = instant + timedelta(hours=1)
        nxt = _utc_offset(step, tz)
        if nxt != offset:
            # Find the minute it changed (a few zones switch on the half hour).
            lo, hi = 0, 60
            while hi - lo > 1:
                mid = (lo + hi) // 2
                moved = instant + timedelta(minutes=mid)
                if _utc_offset(moved, tz) == offset:
                    lo = mid
                else:
                    hi = mid
            change = instant + timedelta(minutes=hi)
            spans.append((change.astimezone(UTC).replace(tzinfo=None), offset))
            offset = nxt
        instant = step
    spans.append((datetime.max, offset))
    return spans


def local_day_sql(session: Session, user_ids: list[int] | None = None) -> Callable[..., sql_functions.local_day]:
    """`local_day` for this session's engine: on SQLite it needs the timezone's UTC
    offsets over the span of the recorded events (of `user_ids` only, when given: found
    through the user index, not a scan of every event), looked up once here."""
    zone = config.program_timezone().key
    if session.get_bind().dialect.name != "sqlite":
        return lambda instant: sql_functions.local_day(instant, zone=zone)
    ts = LearningTelemetry.event_timestamp
    span = select(func.min(ts), func.max(ts))
    if user_ids is not None:
        span = span.where(LearningTelemetry.user_id.in_(user_ids))
    low, high = session.execute(span).one()
    offsets = utc_offset_spans(low, high)
    return lambda instant: sql_functions.local_day(instant, zone=zone, offsets=offsets)
