"""Package dates are data snapshots: learning_packages.package_date becomes the filed
date of the newest filing in the package (recorded in data_sources["filings"]), as the
schema appendix defines it; until now it held the newest fiscal year end. Rows with no
recorded filing keep their date. Deere's curated fiscal year end is corrected to the
rule it follows ("last Sunday of October"; FY2024 ended 27 October 2024).

Downgrade puts back the newest fiscal year end from data_sources["period_ends"].

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
packages = sa.table(
    "learning_packages",
    sa.column("id", sa.Integer), sa.column("package_date", sa.Date), sa.column("data_sources", _JSON),
)
companies = sa.table(
    "learning_companies", sa.column("ticker", sa.String), sa.column("fiscal_year_end", sa.String),
)


def _dates(sources, key: str) -> list[date]:
    if not isinstance(sources, dict):
        return []
    if key == "filings":
        values = [f.get("filed") for f in sources.get("filings") or [] if isinstance(f, dict)]
    else:
        values = list((sources.get("period_ends") or {}).values())
    out = []
    for value in values:
        try:
            out.append(date.fromisoformat(str(value)))
        except ValueError:
            continue
    return out


def _rewrite(key: str) -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(packages.c.id, packages.c.package_date, packages.c.data_sources)).all():
        found = _dates(row.data_sources, key)
        if found and max(found) != row.package_date:
            bind.execute(sa.update(packages).where(packages.c.id == row.id).values(package_date=max(found)))


def upgrade() -> None:
    _rewrite("filings")
    op.get_bind().execute(sa.update(companies).where(
        companies.c.ticker == "DE", companies.c.fiscal_year_end == "Sunday nearest October 31",
    ).values(fiscal_year_end="last Sunday of October"))


def downgrade() -> None:
    _rewrite("period_ends")
    op.get_bind().execute(sa.update(companies).where(
        companies.c.ticker == "DE", companies.c.fiscal_year_end == "last Sunday of October",
    ).values(fiscal_year_end="Sunday nearest October 31"))
