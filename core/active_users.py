"""Active students by the standard definitions (Amplitude/Mixpanel), from one scan of
the daily rollup:

- **DAU**: distinct students with any event on a program-timezone day.
- **WAU / MAU**: distinct students active in the trailing 7 / 28 days ending that day
  (that day included), not calendar weeks or months.
- **Stickiness**: DAU/MAU per day, averaged over the selected range up to the latest
  complete day.
- **Headline**: the figures of the latest complete day (yesterday in the program
  timezone, or the range's end if earlier), which the page names.

Why one scan and no COUNT(DISTINCT): each (student, active day) row, with the student's
next active day (`lead`), covers the days until the window forgets it or the next
active day takes over. Those spans never overlap for one student, so WAU on a day is
the number of spans covering it: +1 where a span starts, -1 where it ends, summed
running. The query returns at most 29 rows per day (day × capped gap), whatever the
number of events, so chart time stays flat as events grow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from core import models, progress
from core.access import Actor, require
from core.analytics import Filters, _frame, _segment
from core.sql_functions import days_between

WINDOWS = {"wau": 7, "mau": 28}
LONGEST = max(WINDOWS.values())
_daily = models.TelemetryDaily.__table__


@dataclass(frozen=True)
class Headline:
    day: date | None  # the latest complete day the figures are for
    dau: int
    wau: int
    mau: int
    stickiness: float | None  # mean daily DAU/MAU over the range, 0..1


def latest_complete_day(filters: Filters, today: date | None = None) -> date:
    yesterday = (today or progress.today()) - timedelta(days=1)
    return min(filters.end, yesterday) if filters.end else yesterday


def _range(filters: Filters, today: date | None) -> tuple[date, date]:
    end = filters.end or (today or progress.today())
    start = filters.start or end - timedelta(days=179)
    return start, end


def spans_select(days, filters: Filters, start: date, end: date) -> Select:
    """(day, gap, students) from `days` (user_id, day rows, one per active student-day):
    gap is the days until the student's next active day, capped at 28."""
    nxt = func.lead(days.c.day).over(partition_by=days.c.user_id, order_by=days.c.day)
    spans = select(days.c.user_id, days.c.day, nxt.label("nx")).select_from(days)
    spans = _segment(spans, filters, days.c.user_id, student_module=True)
    # Activity up to 27 days before the range still counts in its first days' MAU.
    inner = spans.where(days.c.day >= start - timedelta(days=LONGEST - 1), days.c.day <= end).subquery("w")
    gap = case((inner.c.nx.is_(None), LONGEST),
               (days_between(inner.c.day, inner.c.nx) >= LONGEST, LONGEST),
               else_=days_between(inner.c.day, inner.c.nx))
    return (select(inner.c.day, gap.label("gap"), func.count().label("students"))
            .group_by(inner.c.day, gap))


def daily_frame(spans: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """day, dau, wau, mau, stickiness for every day of start..end from the spans."""
    calendar = pd.date_range(start - timedelta(days=LONGEST - 1), end + timedelta(days=LONGEST), freq="D").date
    out = pd.DataFrame(index=pd.Index(calendar, name="day"))
    spans = spans.copy()
    spans["day"] = pd.to_datetime(spans["day"]).dt.date
    spans["gap"] = spans["gap"].astype(int)
    spans["students"] = spans["students"].astype(int)
    out["dau"] = spans.groupby("day")["students"].sum().reindex(out.index, fill_value=0)
    for name, window in WINDOWS.items():
        ends = spans.assign(day=[d + timedelta(days=min(g, window)) for d, g in zip(spans["day"], spans["gap"])])
        delta = (spans.groupby("day")["students"].sum().reindex(out.index, fill_value=0)
                 - ends.groupby("day")["students"].sum().reindex(out.index, fill_value=0))
        out[name] = delta.cumsum()
    out = out.loc[start:end].reset_index()
    out["stickiness"] = (out["dau"] / out["mau"].where(out["mau"] > 0)).round(4)
    return out[["day", "dau", "wau", "mau", "stickiness"]]


def active_students(session: Session, *, actor: Actor, filters: Filters = Filters(),
                    today: date | None = None) -> pd.DataFrame:
    """DAU, WAU, MAU and DAU/MAU for each day of the selected range (default: the last
    180 days up to today)."""
    require(actor, "analytics.read")
    start, end = _range(filters, today)
    return daily_frame(_frame(session, spans_select(_daily.alias("r"), filters, start, end)), start, end)


def headline(frame: pd.DataFrame, filters: Filters = Filters(), today: date | None = None) -> Headline:
    """The latest complete day's DAU/WAU/MAU, and stickiness averaged over the range
    up to that day (days without any monthly active are left out of the mean)."""
    day = latest_complete_day(filters, today)
    upto = frame[frame["day"] <= day]
    if upto.empty:
        return Headline(None, 0, 0, 0, None)
    last = upto.iloc[-1]
    mean = upto["stickiness"].dropna()
    return Headline(last["day"], int(last["dau"]), int(last["wau"]), int(last["mau"]),
                    round(float(mean.mean()), 4) if len(mean) else None)


def cohort_run(session: Session, *, actor: Actor, cohort: str | None = None) -> tuple[date | None, date | None]:
    """The first and last active day of a cohort (every student when `cohort` is None):
    the "this cohort's run" date preset."""
    require(actor, "analytics.read")
    d = _daily.alias("d")
    stmt = _segment(select(func.min(d.c.day), func.max(d.c.day)), Filters(cohort=cohort), d.c.user_id,
                    student_module=False)
    first, last = session.execute(stmt.select_from(d)).one()
    return first, last
