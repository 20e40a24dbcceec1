"""How values read on a page: titles instead of keys, role names, local times, money,
percentages, counts and "—" for a missing value.

Pure functions (no streamlit, no database): pages and read services call them so that
every page says the same thing the same way. A page that shows times calls
`zone_note()` once, so each time can be shown without its zone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from core import catalogue, config
from core.access import ROLE_LABELS

MISSING = "—"

# Symbols for the currencies a cohort meets; any other currency is written as its code.
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def is_missing(value: Any) -> bool:
    """None, NaN, NaT, pandas NA and blank strings are all "no value"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        import pandas as pd

        if value is pd.NaT or value is pd.NA:
            return True
    except ImportError:  # pragma: no cover - pandas is a dependency of the app
        pass
    if isinstance(value, float | Decimal):
        return math.isnan(value) if isinstance(value, float) else value.is_nan()
    try:
        return bool(value != value)  # NaT and numpy NaN are unequal to themselves
    except (TypeError, ValueError):
        return False


def text(value: Any) -> str:
    """Any value as text, with "—" for a missing one."""
    return MISSING if is_missing(value) else str(value)


# ---- titles -------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def catalogue_titles() -> dict[str, str]:
    """content_key → title for every node of the built-in catalogue."""
    titles: dict[str, str] = {}

    def walk(node: dict) -> None:
        titles[node["content_key"]] = node["title"]
        for child in node.get("children", []):
            walk(child)

    for module in catalogue.TREE:
        walk(module)
    return titles


def humanize(key: Any) -> str:
    """A machine name read aloud: "old_findings" → "Old findings"."""
    if is_missing(key):
        return MISSING
    words = str(key).replace("_", " ").replace("-", " ").split()
    if not words:
        return MISSING
    phrase = " ".join(words)
    return phrase[0].upper() + phrase[1:]


def title(key: Any, titles: Mapping[str, str] | None = None) -> str:
    """The title of a module, unit, lesson or activity. `titles` (content_key → title,
    e.g. read from the database, where admins may have edited them) wins over the
    built-in catalogue; an unknown key is humanized rather than shown raw."""
    if is_missing(key):
        return MISSING
    key = str(key)
    if titles and key in titles and titles[key]:
        return titles[key]
    return catalogue_titles().get(key) or humanize(key)


# Validator checks (core.validation.checks) by the name a reviewer knows them by.
CHECK_TITLES = {
    "required_sheets": "Required sheets", "no_error_values": "No error values", "revenue_build": "Revenue build",
    "bs_balances": "Balance sheet balances", "cash_ties": "Cash ties", "net_income_ties": "Net income ties",
    "forecast_formulas": "Forecast formulas", "price_targets": "Price targets",
}


def check_title(check_id: Any) -> str:
    if is_missing(check_id):
        return MISSING
    return CHECK_TITLES.get(str(check_id), humanize(check_id))


def titled(frame, *columns: str, titles: Mapping[str, str] | None = None):
    """A copy of a pandas frame whose content-key columns hold titles instead."""
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = out[column].map(lambda key: title(key, titles))
    return out


def role_name(role: Any) -> str:
    """"project_lead" never reaches a page: "Program lead", "Instructor", "Admin"."""
    if is_missing(role):
        return MISSING
    return ROLE_LABELS.get(str(role), humanize(role))


# ---- times ---------------------------------------------------------------------------------

def zone_name() -> str:
    return str(config.program_timezone())


def zone_note() -> str:
    """Shown once per page that shows times: "Times in America/New_York"."""
    return f"Times in {zone_name()}"


def local(dt: datetime) -> datetime:
    """An aware datetime in the program's timezone; naive ones are taken as UTC (the
    database stores UTC, and SQLite hands it back without a zone)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(config.program_timezone())


def when(value: Any, *, seconds: bool = False) -> str:
    """A moment in the program's timezone, "2 Dec 2026, 09:14"; the zone goes in
    `zone_note()`, shown once on the page."""
    if is_missing(value):
        return MISSING
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        if isinstance(value, date):
            return day(value)
        return text(value)
    dt = local(value)
    return f"{dt.day} " + dt.strftime("%b %Y, %H:%M" + (":%S" if seconds else ""))


def day(value: Any) -> str:
    """A calendar date, "2 Dec 2026" (a datetime is first moved to the program's zone)."""
    if is_missing(value):
        return MISSING
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        value = local(value).date()
    if not isinstance(value, date):
        return text(value)
    return f"{value.day} {value:%b %Y}"


# ---- numbers -------------------------------------------------------------------------------

def _float(value: Any) -> float | None:
    if is_missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def number(value: Any, digits: int = 2) -> str:
    """A number for people: thousands separated, at most `digits` decimals, trailing
    zeros dropped; small non-zero values keep two significant figures so a diff of
    0.00042 does not read as 0 — and float noise (1e-15) reads as 0."""
    x = _float(value)
    if x is None:
        return text(value)
    if abs(x) < 1e-9:
        return "0"
    if abs(x) >= 10 ** -digits or digits >= 6:
        out = f"{x:,.{digits}f}"
    else:
        # Enough decimals for two significant figures.
        decimals = min(-math.floor(math.log10(abs(x))) + 1, 9)
        out = f"{x:,.{decimals}f}"
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def diff(value: Any) -> str:
    """A difference between two figures, signed: "+1,234.5", "−0.0042", "0"."""
    x = _float(value)
    if x is None:
        return text(value)
    out = number(x)
    if out == "0":
        return "0"
    return ("+" + out) if x > 0 else ("−" + out.lstrip("-"))


def integer(value: Any) -> str:
    x = _float(value)
    return text(value) if x is None else f"{round(x):,}"


def money(value: Any, currency: str | None = "USD") -> str:
    """An amount with its currency: "$12.50", "$0.0042" (costs of a model call are tiny,
    so small amounts keep two significant figures), "TWD 1,234"."""
    x = _float(value)
    if x is None:
        return text(value)
    code = (currency or "USD").upper()
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x == 0:
        amount = "0.00"
    elif x < 0.01:
        decimals = min(-math.floor(math.log10(x)) + 1, 8)
        amount = f"{x:.{decimals}f}"
    elif (x >= 1000 and x == round(x)) or x >= 100_000:
        amount = f"{x:,.0f}"
    else:
        amount = f"{x:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{code} {amount}"


def percent(fraction: Any, digits: int = 0) -> str:
    """A share as a percentage: 0.423 → "42%"; `digits` decimals when asked for."""
    x = _float(fraction)
    if x is None:
        return text(fraction)
    return f"{x * 100:.{digits}f}%"


def points(value: Any, digits: int = 1) -> str:
    """A score out of 100 (already a percentage): 87.25 → "87.3"."""
    return number(value, digits)


def duration(minutes: Any) -> str:
    """Minutes as people say them: 45 → "45 min", 180 → "3 h", 90 → "1 h 30 min"."""
    x = _float(minutes)
    if x is None:
        return text(minutes)
    m = round(x)
    hours, rest = divmod(m, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


# ---- words ---------------------------------------------------------------------------------

def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """The noun alone: plural(1, "finding") → "finding"."""
    return singular if n == 1 else (plural_form or singular + "s")


def count(n: Any, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun: "1 finding", "3 findings", "1,204 submissions"."""
    x = _float(n)
    if x is None:
        return f"{MISSING} {plural_form or singular + 's'}"
    k = int(x)
    return f"{k:,} {plural(k, singular, plural_form)}"


def yes_no(value: Any) -> str:
    if is_missing(value):
        return MISSING
    return "Yes" if bool(value) else "No"


def local_times(frame):
    """A copy of a pandas frame whose timezone-aware columns are in the program's zone
    (the database's UTC would otherwise reach the page)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        return frame
    zone = zone_name()
    out = frame
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype) and str(series.dtype.tz) != zone:
            if out is frame:
                out = frame.copy()
            out[column] = series.dt.tz_convert(zone)
    return out
