"""The demo's company packages, built by the real pipeline from generated companyfacts."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from core import auth
from core.db import session_scope
from core.demo.companyfacts import companyfacts_for, filed_through
from core.demo.files import latest_filed_year
from core.errors import Invalid
from core.models import (
    AuditLog,
    LearningCompany,
    LearningPackage,
    StaffUser,
)

# Versions per company, each built from one more annual filing than the last. GE's
# newest is stale (its fiscal year ended over 15 months ago); GSBD has none, so the
# home and packages pages show both cases. TSLA's first version fails validation.
PACKAGE_VERSIONS = {"TSLA": 3, "COST": 2, "SHOP": 2, "UBER": 2, "ABNB": 1, "DE": 2, "GE": 1, "KO": 2, "BUD": 1,
                    "GSBD": 0}


def _packages(engine: Engine, store, today: date, seed: int) -> int:
    """Package history for companies that have none yet, built by the real pipeline
    (core.packages.build_package) from generated companyfacts, as the demo admin."""
    from core.packages import build_package

    with session_scope(engine) as session:
        have = set(session.scalars(select(LearningPackage.company_id).distinct()))
        todo = [(c.ticker, SimpleNamespace(company_name=c.company_name, sec_cik=c.sec_cik,
                                           fiscal_year_end=c.fiscal_year_end))
                for c in session.scalars(select(LearningCompany).order_by(LearningCompany.ticker))
                if c.id not in have and PACKAGE_VERSIONS.get(c.ticker) and c.sec_cik]
        admin = session.scalar(select(StaffUser).where(StaffUser.is_demo.is_(True), StaffUser.role == "admin"))
        if admin is None:
            raise Invalid("The demo has no admin to build packages as; seed the demo staff first.")
        actor = auth.actor_of(admin)
    built = 0
    for ticker, company in todo:
        count = PACKAGE_VERSIONS[ticker]
        last = latest_filed_year(ticker, company.fiscal_year_end, today, stale=ticker == "GE")
        doc = companyfacts_for(ticker, company, random.Random(f"ngi-demo-{seed}-package-{ticker}"), last_year=last)
        name = f"CIK{int(company.sec_cik):010d}.json (generated for the NGI demo; not SEC data)"
        for version in range(1, count + 1):
            through = last - (count - version)
            content = json.dumps(filed_through(doc, through)).encode()
            result = build_package(engine, actor=actor, ticker=ticker, companyfacts=content, source_name=name,
                                   ingestion_method="manual", storage=store)
            # Date the build a few days after the filing it added, as if built then;
            # its audit entry moves with it.
            filed = max(date.fromisoformat(r["filed"]) for body in doc["facts"]["dei"].values()
                        for rows in body["units"].values() for r in rows if r["fy"] == through)
            at = datetime.combine(min(filed + timedelta(days=3), today), time(15), tzinfo=UTC)
            with session_scope(engine) as session:
                session.execute(update(LearningPackage).where(LearningPackage.id == result.package_id)
                                .values(created_at=at))
                session.execute(update(AuditLog).where(AuditLog.target_type == "package",
                                                       AuditLog.target_id == str(result.package_id))
                                .values(created_at=at))
            built += 1
    return built
