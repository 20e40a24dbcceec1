"""What feedback costs: a price table with effective dates, and the daily budget cap.

The table lives in `core/config/prices.json` (or the file NGI_PRICES_FILE names) so a
price change is a config edit, not a code change. Each row is costed with the price in
force on its own date, so a change on 1 March never re-prices February's feedback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import config
from core.errors import Invalid
from core.models import FeedbackFailure, LearningFeedback

DEFAULT_PRICES = Path(__file__).resolve().parent.parent / "config" / "prices.json"
PER_TOKENS = Decimal(1_000_000)
_cache: dict[tuple[str, float], dict] = {}


@dataclass(frozen=True)
class Price:
    model_key: str
    effective_from: date
    input: Decimal
    cached_input: Decimal
    output: Decimal


def prices_path() -> Path:
    return Path(config.env("NGI_PRICES_FILE") or DEFAULT_PRICES)


def load_table(path: Path | None = None) -> dict[str, list[Price]]:
    """model key -> prices sorted by effective date. Re-read when the file changes."""
    path = path or prices_path()
    try:
        stamp = path.stat().st_mtime
    except FileNotFoundError:
        raise Invalid(f"The price table {path} does not exist (set NGI_PRICES_FILE or restore it).") from None
    cached = _cache.get((str(path), stamp))
    if cached is not None:
        return cached
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        table: dict[str, list[Price]] = {}
        for key, entries in raw["models"].items():
            rows = []
            for i, entry in enumerate(entries):
                where = f"{path}: models.{key}[{i}]"
                try:
                    rows.append(Price(
                        model_key=key,
                        effective_from=date.fromisoformat(entry["effective_from"]),
                        input=Decimal(str(entry["input"])),
                        cached_input=Decimal(str(entry.get("cached_input", entry["input"]))),
                        output=Decimal(str(entry["output"])),
                    ))
                except (KeyError, ValueError, TypeError) as exc:
                    raise Invalid(f"{where} needs effective_from (YYYY-MM-DD), input and output: {exc}.") from None
            table[key] = sorted(rows, key=lambda p: p.effective_from)
    except (json.JSONDecodeError, KeyError, AttributeError) as exc:
        raise Invalid(f"The price table {path} is not valid: {exc}.") from None
    _cache.clear()
    _cache[(str(path), stamp)] = table
    return table


def price_for(model: str | None, on: date, *, table: dict[str, list[Price]] | None = None) -> Price | None:
    """The price in force for `model` on `on`, matching the longest key the model name
    starts with (dated snapshots such as gpt-4o-mini-2024-07-18 share their family's price)."""
    if not model:
        return None
    table = table if table is not None else load_table()
    keys = [k for k in table if model == k or model.startswith(k + "-")]
    if not keys:
        return None
    in_force = [p for p in table[max(keys, key=len)] if p.effective_from <= on]
    return in_force[-1] if in_force else None


def cost_usd(model: str | None, *, tokens_in: int, tokens_out: int, tokens_cached: int = 0,
             on: date | datetime, table: dict[str, list[Price]] | None = None) -> Decimal | None:
    """Dollars for one call, or None when the table has no price for the model then.

    `tokens_in` is the API's prompt_tokens, which already includes the cached ones; the
    cached share is charged at its own rate instead of the full input rate.
    """
    day = on.date() if isinstance(on, datetime) else on
    price = price_for(model, day, table=table)
    if price is None:
        return None
    cached = max(0, min(tokens_cached or 0, tokens_in or 0))
    fresh = max(0, (tokens_in or 0) - cached)
    total = (fresh * price.input + cached * price.cached_input + (tokens_out or 0) * price.output) / PER_TOKENS
    return total.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A program-timezone day as a UTC-aware half-open range."""
    tz = config.program_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def local_day(moment: datetime) -> date:
    return moment.astimezone(config.program_timezone()).date()


def spent_between(session: Session, start: datetime, end: datetime) -> Decimal:
    """OpenAI spend in [start, end): stored feedback plus failed calls, which are billed too."""
    total = Decimal(0)
    for model in (LearningFeedback, FeedbackFailure):
        value = session.scalar(
            select(func.coalesce(func.sum(model.openai_cost_usd), 0))
            .where(model.created_at >= start, model.created_at < end)
        )
        total += Decimal(str(value or 0))
    return total


def daily_budget() -> Decimal:
    return Decimal(str(config.env_float("NGI_FEEDBACK_DAILY_BUDGET_USD")))


def monthly_budget() -> Decimal:
    return Decimal(str(config.env_float("NGI_FEEDBACK_MONTHLY_BUDGET_USD")))


def spent_today(session: Session, now: datetime) -> Decimal:
    return spent_between(session, *day_bounds(local_day(now)))


def over_daily_budget(session: Session, now: datetime) -> str | None:
    """None while there is budget left today, else the sentence that says why not."""
    cap = daily_budget()
    spent = spent_today(session, now)
    if spent < cap:
        return None
    return (f"The daily OpenAI budget of ${cap:,.2f} is used up (${spent:,.4f} spent on "
            f"{local_day(now).isoformat()}), so the offline rubric coach wrote this feedback instead.")


def month_bounds(day: date) -> tuple[datetime, datetime]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_bounds(first)[0], day_bounds(following)[0]
