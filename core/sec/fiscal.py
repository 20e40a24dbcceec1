"""Fiscal years from period end dates.

`fy` and `fp` in companyfacts describe the filing that reported a fact, not the
period, so a 10-K for FY2024 also carries FY2023 and FY2022 comparatives tagged
fy=2024. The fiscal year is derived here from the period's end date and the
company's fiscal year end instead.

Convention: a fiscal year is named after the calendar year of its nominal end date.
A year ending 31 January 2025 is FY2025 (Snowflake's own "fiscal 2025"); a 52/53-week
year ending on the Sunday nearest 31 August (COST) is named after the 31 August it
straddles, even when it actually ends on 1 or 3 September.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from core.errors import Invalid

# A 52/53-week year ends up to 3 days from its nominal date; a few more days cover
# "last Saturday of" conventions and filers that move their year end by a week.
END_TOLERANCE_DAYS = 10
# One fiscal year: 52 weeks (364 days) to 53 weeks (371), plus calendar years.
MIN_YEAR_DAYS, MAX_YEAR_DAYS = 350, 380

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}


@dataclass(frozen=True)
class FiscalYearEnd:
    month: int
    day: int  # 31 means "last day of the month" for shorter months
    weekday: int | None = None  # set for 52/53-week years ("Sunday nearest ...")

    def nominal(self, year: int) -> date:
        return date(year, self.month, min(self.day, calendar.monthrange(year, self.month)[1]))

    def describe(self) -> str:
        text = f"{calendar.month_name[self.month]} {self.day}"
        if self.weekday is not None:
            text = f"{calendar.day_name[self.weekday]} nearest {text}"
        return text


def parse_fiscal_year_end(text: str | None) -> FiscalYearEnd | None:
    """'December 31', 'Jan 31', '--01-31', '0131', 'Sunday nearest August 31',
    'last Saturday of January'. None for an empty value; Invalid when unreadable."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    lowered = raw.lower().replace(",", " ")
    weekday = next((num for name, num in _WEEKDAYS.items() if name in lowered), None)
    if m := re.fullmatch(r"-{0,2}(\d{2})-?(\d{2})", raw):
        month, day = int(m.group(1)), int(m.group(2))
    elif m := re.search(r"last\s+\w+\s+(?:of|in)\s+([a-z]+)", lowered):
        month = _MONTHS.get(m.group(1), 0)
        day = 31
    elif m := re.search(r"([a-z]+)\s+(\d{1,2})\b", lowered.replace("nearest", " ").replace("closest to", " ")):
        month, day = _MONTHS.get(m.group(1), 0), int(m.group(2))
        if not month:  # e.g. "Sunday 31" without a month name
            m = None
    else:
        m = None
    if not m or not 1 <= month <= 12 or not 1 <= day <= 31:
        raise Invalid(
            f"Fiscal year end {raw!r} is not understood; write it like 'December 31' or "
            "'Sunday nearest August 31'."
        )
    return FiscalYearEnd(month=month, day=day, weekday=weekday)


def fiscal_year_for(end: date, fye: FiscalYearEnd) -> int | None:
    """The fiscal year a period ending on `end` closes, or None when `end` is not
    near a fiscal year end (a quarter end, an acquisition date)."""
    best = min(
        (abs((end - fye.nominal(year)).days), year) for year in (end.year - 1, end.year, end.year + 1)
    )
    return best[1] if best[0] <= END_TOLERANCE_DAYS else None


def is_annual_duration(start: date, end: date) -> bool:
    return MIN_YEAR_DAYS <= (end - start).days + 1 <= MAX_YEAR_DAYS


def infer_fiscal_year_end(annual_period_ends: list[date]) -> FiscalYearEnd | None:
    """The most common month/day among the ends of annual periods (month-end days
    rounded so 52/53-week filers collapse to one nominal date)."""
    if not annual_period_ends:
        return None
    counts: Counter[tuple[int, int]] = Counter()
    for end in annual_period_ends:
        # Early-month ends of 52/53-week years belong to the previous month's end.
        if end.day <= 7:
            prev_month = 12 if end.month == 1 else end.month - 1
            counts[(prev_month, 31)] += 1
        else:
            counts[(end.month, end.day if end.day < 28 else 31)] += 1
    (month, day), _ = counts.most_common(1)[0]
    return FiscalYearEnd(month=month, day=day)
