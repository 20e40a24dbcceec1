"""The telemetry rollups: maintained event by event (events.py), rebuildable from raw
events (rebuild_sql.py, submissions.py), with one set of definitions (definitions.py).

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


# What the rest of core/ uses; the other names live in the submodules that define them.
from core.rollup.definitions import (
    CAP_SECONDS,
    COMPLETION_TYPES,
    FUNNEL_STEPS,
    ContentMap,
    content_map,
    epoch,
    local_day,
    local_day_sql,
    month_start,
    utc_offset_spans,
    week_start,
)
from core.rollup.events import apply_event
from core.rollup.rebuild_sql import analyze, funnel_select, hash_joins, rebuild

__all__ = [
    "CAP_SECONDS", "COMPLETION_TYPES", "FUNNEL_STEPS", "ContentMap", "analyze", "apply_event", "content_map", "epoch",
    "funnel_select", "hash_joins", "local_day", "local_day_sql", "month_start", "rebuild", "utc_offset_spans",
    "week_start",
]
