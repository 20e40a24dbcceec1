"""One funnel per activity: students at each step (in order, see core/rollup/), the
share converted from the previous step and from the first, and the median time
between steps; and the students behind any step, for the drill-down.

Median time between steps: for students who reached step n in order, the time from
the first time they reached step n-1 to the first time they reached step n, from the
funnel rollup's first-seen timestamps (one row per student and activity). A student
whose first occurrence of step n came before that of step n-1 (they went back and did
it again in order) is left out of that step's median rather than counted as negative.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import models, rollup
from core.access import Actor, require
from core.analytics import STEP_LABELS, Filters, _frame, _instant_range, _segment

_funnel = models.ActivityFunnel.__table__
COLUMNS = ["step_index", "step", "label", "students", "pct_previous", "pct_first", "median_minutes"]


def _rows(session: Session, filters: Filters, activity: str):
    a = _funnel.alias("a")
    stmt = select(a.c.user_id, a.c.ordered_steps, *[a.c[s + "_at"] for s in rollup.FUNNEL_STEPS]).select_from(a)
    stmt = _segment(stmt, filters, a.c.user_id, student_module=False)
    return _instant_range(stmt, filters, a.c.first_at).where(a.c.activity == activity)


def activities(session: Session, *, actor: Actor) -> list[str]:
    """Activities with funnel rows, in catalogue order."""
    require(actor, "analytics.read")
    cmap = rollup.content_map(session)
    present = set(session.scalars(select(_funnel.c.activity).distinct()))
    return sorted(present, key=lambda a: (cmap.order.get(a, 10**6), a))


def activity_funnel(session: Session, *, actor: Actor, activity: str, filters: Filters = Filters()) -> pd.DataFrame:
    """The five steps of one activity's funnel with counts, conversion and median times."""
    require(actor, "analytics.read")
    rows = _frame(session, _rows(session, filters, activity))
    out = []
    first = None
    previous = None
    for n, step in enumerate(rollup.FUNNEL_STEPS, start=1):
        reached = rows[rows["ordered_steps"] >= n]
        count = len(reached)
        first = count if n == 1 else first
        median = None
        if n > 1 and count:
            before = pd.to_datetime(reached[rollup.FUNNEL_STEPS[n - 2] + "_at"], utc=True)
            after = pd.to_datetime(reached[step + "_at"], utc=True)
            minutes = ((after - before).dt.total_seconds() / 60).dropna()
            minutes = minutes[minutes >= 0]
            median = round(float(minutes.median()), 1) if len(minutes) else None
        out.append({
            "step_index": n, "step": step, "label": STEP_LABELS[step], "students": count,
            "pct_previous": round(100 * count / previous, 1) if previous else None,
            "pct_first": round(100 * count / first, 1) if first else None,
            "median_minutes": median,
        })
        previous = count
    return pd.DataFrame(out, columns=COLUMNS)


def step_students(session: Session, *, actor: Actor, activity: str, step_index: int,
                  filters: Filters = Filters()) -> list[int]:
    """The students counted at `step_index` (1-based) of the activity's funnel."""
    require(actor, "analytics.read")
    a = _funnel.alias("a")
    stmt = _segment(select(a.c.user_id).select_from(a), filters, a.c.user_id, student_module=False)
    stmt = _instant_range(stmt, filters, a.c.first_at).where(a.c.activity == activity,
                                                              a.c.ordered_steps >= int(step_index))
    return sorted(session.scalars(stmt))
