"""Capstone price targets on the anonymised leaderboard.

Each (student, company) has one row. Its `anonymous_id` (`Analyst_3F7A9C`) is random,
not derived from the student, so it cannot be reversed; it is drawn once, kept across
resubmissions, and unique per company (a database constraint). Six hex digits give
16.7 million ids; collisions are still possible in a large cohort, so a clash is
retried with a fresh draw.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict
from core.models import LearningLeaderboard

ATTEMPTS = 20


def new_anonymous_id() -> str:
    return f"Analyst_{secrets.token_hex(3).upper()}"


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), 2)))


def _fields(*, submission_id: int, targets: dict[str, float], valuation_date: date) -> dict:
    """The columns a resubmission updates."""
    return dict(
        dcf_price_target=_money(targets.get("dcf_price_target")),
        comps_price_target=_money(targets.get("comps_price_target")),
        final_price_target=_money(targets.get("final_price_target")),
        valuation_date=valuation_date, submission_id=submission_id,
    )


def entry_row(*, user_id: int, company_id: int, anonymous_id: str, submission_id: int, targets: dict[str, float],
              valuation_date: date) -> dict:
    """The learning_leaderboard row `upsert_entry` inserts (the demo bulk-inserts the same rows)."""
    return dict(user_id=user_id, company_id=company_id, anonymous_id=anonymous_id,
                **_fields(submission_id=submission_id, targets=targets, valuation_date=valuation_date))


def upsert_entry(
    session: Session, *, user_id: int, company_id: int, submission_id: int, targets: dict[str, float],
    valuation_date: date, make_id: Callable[[], str] = new_anonymous_id,
) -> LearningLeaderboard:
    """Create or update the student's row for this company with the submission's targets."""
    entry = session.scalar(
        select(LearningLeaderboard).where(LearningLeaderboard.user_id == user_id,
                                          LearningLeaderboard.company_id == company_id)
    )
    fields = _fields(submission_id=submission_id, targets=targets, valuation_date=valuation_date)
    if entry is not None:
        for key, value in fields.items():
            setattr(entry, key, value)
        session.flush()
        return entry
    for _ in range(ATTEMPTS):
        candidate = make_id()
        taken = session.scalar(
            select(LearningLeaderboard.id).where(LearningLeaderboard.company_id == company_id,
                                                 LearningLeaderboard.anonymous_id == candidate)
        )
        if taken is not None:
            continue
        entry = LearningLeaderboard(**entry_row(user_id=user_id, company_id=company_id, anonymous_id=candidate,
                                                submission_id=submission_id, targets=targets,
                                                valuation_date=valuation_date))
        # A savepoint, so a concurrent writer that took the same id costs one retry,
        # not the whole submission.
        try:
            with session.begin_nested():
                session.add(entry)
                session.flush()
        except IntegrityError:
            continue
        return entry
    raise Conflict(f"Could not draw a unique anonymous id for company {company_id} after {ATTEMPTS} attempts.")
