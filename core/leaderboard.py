"""The capstone leaderboard: price targets per company, anonymized.

Privacy rules, enforced here rather than in the page:
- user ids, names and emails never leave this module for non-admins;
- for a company with fewer than MIN_ENTRIES entries, non-admins get the count only
  (no entries, and no median or spread, which with one or two entries would be them);
- an admin may reveal identities for one company, and every reveal is audited;
- a role that may reveal no identity anywhere (neither here nor in review) gets the
  entries without their anonymous ids: the review pages show it each student's work and
  targets under an alias, so an id here would let it join the two and put a student
  behind every entry.
"""

from __future__ import annotations

import statistics
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, can, require
from core.db import session_scope
from core.errors import Invalid, NotFound
from core.models import LearningCompany, LearningLeaderboard, Student

MIN_ENTRIES = 5


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _rows(session: Session, company_id: int | None = None):
    query = (
        select(LearningLeaderboard, LearningCompany.ticker, LearningCompany.company_name)
        .join(LearningCompany, LearningCompany.id == LearningLeaderboard.company_id)
        .order_by(LearningCompany.ticker, LearningLeaderboard.final_price_target.desc())
    )
    if company_id is not None:
        query = query.where(LearningLeaderboard.company_id == company_id)
    return session.execute(query).all()


def may_link(*, actor: Actor) -> bool:
    """May this actor see something that ties an entry to a student (its anonymous id)?"""
    return can(actor, "leaderboard.identities") or can(actor, "review.reveal")


def _entry(row: LearningLeaderboard, ticker: str, *, with_id: bool = True) -> dict:
    """The anonymized view of one entry: no user id, no submission id."""
    as_float = lambda v: None if v is None else float(v)  # noqa: E731
    return dict(ticker=ticker, anonymous_id=row.anonymous_id if with_id else None, dcf_price_target=as_float(row.dcf_price_target),
                comps_price_target=as_float(row.comps_price_target),
                final_price_target=as_float(row.final_price_target), valuation_date=row.valuation_date)


def board(session: Session, *, actor: Actor) -> dict:
    """{'companies': per-company stats, 'entries': the entries this actor may see}.

    Companies without entries are listed too (count 0), so the page can say so.
    """
    require(actor, "leaderboard.read")
    full = can(actor, "leaderboard.identities")
    with_ids = may_link(actor=actor)
    by_company: dict[str, list[dict]] = {}
    for row, ticker, _name in _rows(session):
        by_company.setdefault(ticker, []).append(_entry(row, ticker, with_id=with_ids))
    companies = session.execute(
        select(LearningCompany.ticker, LearningCompany.company_name, LearningCompany.is_active)
        .order_by(LearningCompany.ticker)
    ).all()
    stats, entries = [], []
    for ticker, name, active in companies:
        items = by_company.get(ticker, [])
        if not items and not active:
            continue
        targets = [e["final_price_target"] for e in items if e["final_price_target"] is not None]
        shown = full or len(items) >= MIN_ENTRIES
        stat = dict(ticker=ticker, company=name, count=len(items), suppressed=bool(items) and not shown,
                    median=None, q1=None, q3=None, low=None, high=None, spread=None)
        if targets and shown:
            q1, q3 = _quantile(targets, 0.25), _quantile(targets, 0.75)
            stat.update(median=statistics.median(targets), q1=q1, q3=q3, low=min(targets), high=max(targets),
                        spread=q3 - q1)
        stats.append(stat)
        if shown:
            entries.extend(items)
    return {"companies": stats, "entries": entries, "min_entries": MIN_ENTRIES, "identities_allowed": full,
            "ids_shown": with_ids}


def reveal_identities(engine: Engine, *, actor: Actor, ticker: str, reason: str) -> list[dict]:
    """Admins only: who is behind each anonymous id for one company. Audited."""
    require(actor, "leaderboard.identities")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise Invalid("Give a reason for revealing identities (at least 5 characters); it is kept in the audit log.")
    with session_scope(engine, immediate=True) as session:
        company = session.scalar(select(LearningCompany).where(func.upper(LearningCompany.ticker) == ticker.upper()))
        if company is None:
            raise NotFound(f"No company with ticker {ticker!r}.")
        rows = session.execute(
            select(LearningLeaderboard, Student.full_name, Student.email, Student.cohort)
            .join(Student, Student.id == LearningLeaderboard.user_id)
            .where(LearningLeaderboard.company_id == company.id)
            .order_by(LearningLeaderboard.final_price_target.desc())
        ).all()
        audit.record(session, actor, "leaderboard.reveal", target_type="company", target_id=company.ticker,
                     details={"reason": reason, "entries": len(rows)})
        return [
            dict(_entry(row, company.ticker), student=name, email=email, cohort=cohort, user_id=row.user_id)
            for row, name, email, cohort in rows
        ]


def latest_valuation_date(session: Session) -> date | None:
    return session.scalar(select(func.max(LearningLeaderboard.valuation_date)))
