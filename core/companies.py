"""The curated companies: seed data, lookup, and admin add/deactivate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require
from core.db import session_scope
from core.errors import Conflict, Invalid, NotFound
from core.models import LearningCompany
from core.sec.fiscal import parse_fiscal_year_end

# The ten curated companies: the appendix's sample rows plus real metadata.
CURATED: list[dict] = [
    dict(
        ticker="TSLA", company_name="Tesla, Inc.", industry="Automotive", sub_industry="Electric Vehicles",
        headquarters="Austin, Texas", fiscal_year_end="December 31", sec_cik="1318605",
        ir_website_url="https://ir.tesla.com", revenue_model_type="QxP",
        revenue_driver_notes="Q=Deliveries by model, P=ASP by model", data_quality_score=9,
        description="Designs and sells electric vehicles, energy storage and solar products; "
        "automotive sales dominate revenue, with regulatory credits and services on top.",
    ),
    dict(
        ticker="COST", company_name="Costco Wholesale", industry="Retail", sub_industry="Warehouse Clubs",
        headquarters="Issaquah, Washington", fiscal_year_end="Sunday nearest August 31", sec_cik="909832",
        ir_website_url="https://investor.costco.com", revenue_model_type="QxP+Membership",
        revenue_driver_notes="Q=Transactions, P=Avg ticket, + membership renewals", data_quality_score=10,
        description="Membership warehouse clubs selling a narrow range of high-volume goods at low margin; "
        "membership fees are most of operating profit. 52/53-week fiscal year.",
    ),
    dict(
        ticker="SHOP", company_name="Shopify Inc.", industry="Platform", sub_industry="E-commerce Software",
        headquarters="Ottawa, Ontario, Canada", fiscal_year_end="December 31", sec_cik="1594805",
        ir_website_url="https://investors.shopify.com", revenue_model_type="QxPxT+Subscription",
        revenue_driver_notes="GMV × Take-rate + Subscription ARPU", data_quality_score=8,
        description="Commerce platform for merchants: subscription solutions plus merchant solutions "
        "(payments, shipping, capital) that scale with gross merchandise volume.",
    ),
    dict(
        ticker="UBER", company_name="Uber Technologies", industry="Marketplace",
        sub_industry="Ride-hailing and Delivery", headquarters="San Francisco, California",
        fiscal_year_end="December 31", sec_cik="1543151", ir_website_url="https://investor.uber.com",
        revenue_model_type="QxPxT", revenue_driver_notes="Trips × Avg Fare × Take-rate", data_quality_score=8,
        description="Two-sided marketplace for mobility, delivery and freight; revenue is the take rate "
        "on gross bookings.",
    ),
    dict(
        ticker="ABNB", company_name="Airbnb, Inc.", industry="Hospitality",
        sub_industry="Online Travel Marketplace", headquarters="San Francisco, California",
        fiscal_year_end="December 31", sec_cik="1559720", ir_website_url="https://investors.airbnb.com",
        revenue_model_type="QxPxT", revenue_driver_notes="Nights × ADR × Take-rate", data_quality_score=9,
        description="Marketplace for short-term stays and experiences; revenue is service fees on "
        "nights and experiences booked.",
    ),
    dict(
        ticker="DE", company_name="Deere & Company", industry="Industrial",
        sub_industry="Agricultural and Construction Machinery", headquarters="Moline, Illinois",
        fiscal_year_end="last Sunday of October", sec_cik="315189", ir_website_url="https://investor.deere.com",
        revenue_model_type="QxP", revenue_driver_notes="Units/Shipments × ASP", data_quality_score=8,
        description="Farm, construction and forestry equipment maker with a captive finance arm; "
        "52/53-week fiscal year ending on the last Sunday of October (FY2024 ended 27 October 2024).",
    ),
    dict(
        ticker="GE", company_name="General Electric", industry="Aerospace", sub_industry="Jet Engines and Services",
        headquarters="Evendale, Ohio", fiscal_year_end="December 31", sec_cik="40545",
        ir_website_url="https://www.geaerospace.com/investor-relations", revenue_model_type="QxP",
        revenue_driver_notes="Shop visits/Flight hours × Rate", data_quality_score=6,
        description="GE Aerospace after the spin-offs of GE HealthCare and GE Vernova; engines and "
        "aftermarket services driven by the installed fleet's flight hours.",
    ),
    dict(
        ticker="KO", company_name="Coca-Cola Company", industry="Beverages", sub_industry="Soft Drinks",
        headquarters="Atlanta, Georgia", fiscal_year_end="December 31", sec_cik="21344",
        ir_website_url="https://investors.coca-colacompany.com", revenue_model_type="QxP",
        revenue_driver_notes="Unit case volume × Price/mix", data_quality_score=9,
        description="Concentrate and finished-beverage company selling through bottling partners "
        "in over 200 countries.",
    ),
    dict(
        ticker="BUD", company_name="Anheuser-Busch InBev", industry="Beverages", sub_industry="Brewers",
        headquarters="Leuven, Belgium", fiscal_year_end="December 31", sec_cik="1668717",
        ir_website_url="https://www.ab-inbev.com/investors", revenue_model_type="QxP",
        revenue_driver_notes="Hectoliters × Revenue/hl", data_quality_score=7,
        description="The world's largest brewer; a foreign private issuer that files a 20-F under IFRS.",
    ),
    dict(
        ticker="GSBD", company_name="Goldman Sachs BDC", industry="Credit", sub_industry="Business Development Company",
        headquarters="New York, New York", fiscal_year_end="December 31", sec_cik="1572694",
        ir_website_url="https://www.goldmansachsbdc.com", revenue_model_type="QxP",
        revenue_driver_notes="Interest-earning investments × Weighted avg yield", data_quality_score=7,
        description="A business development company lending to middle-market companies; reports "
        "investment income, net investment income and NAV per share.",
    ),
]


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
