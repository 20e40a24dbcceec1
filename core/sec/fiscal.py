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
from datetime import date, timedelta

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
    weekday: int | None = None  # set for 52/53-week years ("Sunday nearest ...", "last Saturday of ...")
    last: bool = False  # "last <weekday> of <month>" rather than "<weekday> nearest <month> <day>"

    def nominal(self, year: int) -> date:
        return date(year, self.month, min(self.day, calendar.monthrange(year, self.month)[1]))

    def end_in(self, year: int) -> date:
        """The day fiscal `year` actually ends under this rule."""
        nominal = self.nominal(year)
        if self.weekday is None:
            return nominal
        if self.last:
            month_end = date(year, self.month, calendar.monthrange(year, self.month)[1])
            return month_end - timedelta(days=(month_end.weekday() - self.weekday) % 7)
        ahead = (self.weekday - nominal.weekday()) % 7
        return nominal + timedelta(days=ahead if ahead <= 3 else ahead - 7)

    def describe(self) -> str:
        month = calendar.month_name[self.month]
        if self.weekday is not None and self.last:
            return f"last {calendar.day_name[self.weekday]} of {month}"
        # Day 31 stands for the month's last day: never name "September 31".
        day = min(self.day, calendar.monthrange(2024, self.month)[1] if self.month != 2 else 28)
        text = f"{month} {day}"
        if self.weekday is not None:
            text = f"{calendar.day_name[self.weekday]} nearest {text}"
        return text


def parse_fiscal_year_end(text: str | None) -> FiscalYearEnd | None:
    """'December 31', 'Jan 31', '--01-31', '0131', 'Sunday nearest August 31',
    'last Saturday of September'. None for an empty value; Invalid when unreadable."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    lowered = raw.lower().replace(",", " ")
    weekday = next((num for name, num in _WEEKDAYS.items() if name in lowered), None)
    last = False
    if m := re.fullmatch(r"-{0,2}(\d{2})-?(\d{2})", raw):
        month, day = int(m.group(1)), int(m.group(2))
    elif m := re.search(r"last\s+\w+\s+(?:of|in)\s+([a-z]+)", lowered):
        month = _MONTHS.get(m.group(1), 0)
        day, last = 31, weekday is not None
    elif m := re.search(r"([a-z]+)\s+(\d{1,2})\b", lowered.replace("nearest", " ").replace("closest to", " ")):
        month, day = _MONTHS.get(m.group(1), 0), int(m.group(2))
        if not month:  # e.g. "Sunday 31" without a month name
            m = None
    else:
        m = None
    if not m or not 1 <= month <= 12 or not 1 <= day <= 31 or (not last and day > calendar.monthrange(2024, month)[1]):
        raise Invalid(
            f"Fiscal year end {raw!r} is not understood; write it like 'December 31', "
            "'Sunday nearest August 31' or 'last Saturday of September'."
        )
    if day >= calendar.monthrange(2023, month)[1]:
        day = 31  # the month's last day, whatever its length
    return FiscalYearEnd(month=month, day=day, weekday=weekday, last=last)


def fiscal_year_for(end: date, fye: FiscalYearEnd) -> int | None:
    """The fiscal year a period ending on `end` closes, or None when `end` is not
    near a fiscal year end (a quarter end, an acquisition date)."""
    best = min(
        (abs((end - fye.end_in(year)).days), year) for year in (end.year - 1, end.year, end.year + 1)
    )
    return best[1] if best[0] <= END_TOLERANCE_DAYS else None


def is_annual_duration(start: date, end: date) -> bool:
    return MIN_YEAR_DAYS <= (end - start).days + 1 <= MAX_YEAR_DAYS


def infer_fiscal_year_end(annual_period_ends: list[date]) -> FiscalYearEnd | None:
    """The rule the recent annual periods follow: a fixed date ("June 30"), the last
    weekday of a month ("last Saturday of September", Apple; "last Sunday of October",
    Deere) or a weekday nearest a month end ("Saturday nearest January 31")."""
    ends = sorted(set(annual_period_ends))[-8:]  # the recent years: filers do change their year end
    if not ends:
        return None
    counts: Counter[tuple[int, int]] = Counter()
    for end in ends:
        # Early-month ends of 52/53-week years belong to the previous month's end.
        if end.day <= 7:
            prev_month = 12 if end.month == 1 else end.month - 1
            counts[(prev_month, 31)] += 1
        else:
            counts[(end.month, end.day if end.day < 28 else 31)] += 1
    (month, day), _ = counts.most_common(1)[0]
    fixed = FiscalYearEnd(month=month, day=day if day < 28 else 31)
    if all(end == fixed.end_in(end.year) or end == fixed.end_in(end.year + 1) for end in ends):
        return fixed
    weekday, n = Counter(end.weekday() for end in ends).most_common(1)[0]
    if n * 5 < len(ends) * 4:  # no weekday rule: fall back to the most common date
        return fixed
    candidates = [FiscalYearEnd(month=month, day=31, weekday=weekday, last=True),
                  FiscalYearEnd(month=month, day=31, weekday=weekday)]

    def fit(rule: FiscalYearEnd) -> tuple[bool, int]:
        hits = [any(end == rule.end_in(y) for y in (end.year - 1, end.year, end.year + 1)) for end in ends]
        return hits[-1], sum(hits)  # the latest year decides, then how many years agree

    return max(candidates, key=fit)  # on a tie, "last <weekday> of" (listed first) wins


def describe_ends(ends: list[date], limit: int = 3) -> str:
    """The most recent period ends as real dates, e.g. '27 October 2024, 29 October 2023'."""
    return ", ".join(f"{d.day} {calendar.month_name[d.month]} {d.year}" for d in sorted(set(ends))[-limit:][::-1])
