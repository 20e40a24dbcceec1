"""The curated companies: seed data, lookup, and admin add/deactivate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require
from core.db import session_scope
from core.errors import Conflict, Invalid, NotFound
from core.models import LearningCompany
from core.sec.fiscal import parse_fiscal_year_end

# The ten curated companies: the appendix's sample rows plus real metadata (data, kept
# beside prices.json so that it is read and reviewed as data).
CURATED_FILE = Path(__file__).resolve().parent / "config" / "curated_companies.json"
CURATED: list[dict] = json.loads(CURATED_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class SeedResult:
    created: int
    updated: int


def seed_curated(session: Session) -> SeedResult:
    """Insert or refresh the ten curated companies. Running it twice changes nothing."""
    existing = {c.ticker: c for c in session.scalars(select(LearningCompany))}
    created = updated = 0
    for row in CURATED:
        company = existing.get(row["ticker"])
        if company is None:
            session.add(LearningCompany(**row, is_active=True))
            created += 1
            continue
        changed = False
        for key, value in row.items():
            if getattr(company, key) != value:
                setattr(company, key, value)
                changed = True
        updated += changed
    session.flush()
    return SeedResult(created=created, updated=updated)


def get_by_ticker(session: Session, ticker: str) -> LearningCompany:
    company = session.scalar(select(LearningCompany).where(LearningCompany.ticker == ticker.upper()))
    if company is None:
        raise NotFound(f"No company with ticker {ticker.upper()!r}.")
    return company


def list_companies(session: Session, *, include_inactive: bool = False) -> list[LearningCompany]:
    query = select(LearningCompany).order_by(LearningCompany.ticker)
    if not include_inactive:
        query = query.where(LearningCompany.is_active.is_(True))
    return list(session.scalars(query))


def normalize_cik(cik: str | int) -> str:
    digits = str(cik).strip().lstrip("0")
    if not digits.isdigit():
        raise Invalid(f"CIK must be a number, got {cik!r}.")
    return digits


def add_company(
    engine: Engine, *, actor: Actor, ticker: str, company_name: str, cik: str | int | None = None,
    fiscal_year_end: str | None = None, inferred: bool = False, **fields,
) -> LearningCompany:
    """Admin: add a company beyond the curated ten (audited). `inferred` records that the
    fiscal year end was read from a filing rather than typed."""
    require(actor, "companies.manage")
    ticker = ticker.strip().upper()
    if not ticker or len(ticker) > 10 or not ticker.replace(".", "").replace("-", "").isalnum():
        raise Invalid(f"Ticker {ticker!r} must be 1-10 letters or digits.")
    if not company_name.strip():
        raise Invalid("Company name must not be empty.")
    with session_scope(engine, immediate=True) as session:
        if session.scalar(select(LearningCompany.id).where(LearningCompany.ticker == ticker)):
            raise Conflict(f"A company with ticker {ticker} already exists.")
        company = LearningCompany(
            ticker=ticker, company_name=company_name.strip(),
            fiscal_year_end=canonical_fiscal_year_end(fiscal_year_end),
            sec_cik=normalize_cik(cik) if cik is not None else None, is_active=True, **fields,
        )
        session.add(company)
        session.flush()
        audit.record(session, actor, "company.add", target_type="company", target_id=company.ticker,
                     details={"cik": company.sec_cik, "name": company.company_name,
                              "fiscal_year_end": company.fiscal_year_end, "inferred": inferred})
    return company


def canonical_fiscal_year_end(text: str | None) -> str | None:
    """'Jan 31' → 'January 31', 'last sat of september' refused, '' → None (inferred at
    the first build). Invalid names the value when it is not understood."""
    fye = parse_fiscal_year_end(text)
    return fye.describe() if fye else None


def edit_company(engine: Engine, *, actor: Actor, ticker: str, fiscal_year_end: str) -> str:
    """Admin: correct a company's fiscal year end (audited). Returns the stored rule."""
    require(actor, "companies.manage")
    stored = canonical_fiscal_year_end(fiscal_year_end)
    if stored is None:
        raise Invalid("Fiscal year end must not be empty; write it like 'December 31' or 'last Saturday of September'.")
    with session_scope(engine, immediate=True) as session:
        company = get_by_ticker(session, ticker)
        before = company.fiscal_year_end
        company.fiscal_year_end = stored
        audit.record(session, actor, "company.edit", target_type="company", target_id=company.ticker,
                     details={"fiscal_year_end": {"from": before, "to": stored}})
    return stored


def set_active(engine: Engine, *, actor: Actor, ticker: str, active: bool) -> LearningCompany:
    """Admin: deactivating hides a company from new work but keeps all its history;
    activating brings it back (audited)."""
    require(actor, "companies.manage")
    with session_scope(engine, immediate=True) as session:
        company = get_by_ticker(session, ticker)
        company.is_active = active
        session.flush()
        audit.record(session, actor, "company.activate" if active else "company.deactivate",
                     target_type="company", target_id=company.ticker)
    return company
