"""Company packages: build from companyfacts, validate, store, version, compare, download.

One build is: read the company → parse, map and validate the file (no lock held) →
reserve the next version in a short write that serialises builds for the company
(BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE of the company row on PostgreSQL) →
write and store the workbook with no transaction open → record it and flip
`is_current` in a second short write. A failure before that commit removes the stored
file and the reserved row, so no half package is left behind (issue 11's rule: store
first, commit after, compensate on failure).

`package_date` is the date of the data snapshot: the filed date of the newest filing
in the package (or the fetch date). Staleness counts 15 months from it.
"""

from __future__ import annotations

import calendar
import hashlib
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit, companies
from core.access import Actor, require
from core.db import CommitOutcomeUnknown, read_scope, session_scope, utcnow
from core.errors import Conflict, Invalid, NotFound
from core.models import LearningCompany, LearningPackage
from core.package_workbook import PackageInfo, write_workbook
from core.sec import (
    DEFAULT_YEARS,
    build_statements,
    check_cik,
    load_companyfacts,
    validate,
)
from core.storage import Storage, check_key, default_storage

STALE_AFTER_MONTHS = 15
KEY_PREFIX = "learning-packages"
BUILDING = "building"  # a reserved version whose workbook is being stored
RESTATED_BELOW = 1e-6  # millions: smaller differences are float noise, not a restatement


@dataclass(frozen=True)
class BuildResult:
    package_id: int
    ticker: str
    version: int
    file_path: str
    file_hash: str
    file_size_bytes: int
    validation_status: str
    validation_errors: list[dict]
    fiscal_years: list[str]
    is_current: bool
    fiscal_year_end: str = ""
    package_date: date | None = None

    def as_json(self) -> dict:
        keys = ("ticker", "version", "file_path", "file_hash", "file_size_bytes", "validation_status",
                "validation_errors", "fiscal_years", "fiscal_year_end")
        return {k: getattr(self, k) for k in keys} | {"package_date": self.package_date.isoformat() if self.package_date else None}


@dataclass(frozen=True)
class PackageVersion:
    id: int
    ticker: str
    version: int
    package_date: date
    file_path: str
    file_size_bytes: int | None
    file_hash: str | None
    ingestion_method: str | None
    validation_status: str | None
    validation_errors: list
    is_current: bool
    created_at: datetime | None
    created_by: int | None
    fiscal_years: list[str]
    stale: bool


def is_stale(package_date: date, today: date | None = None) -> bool:
    """Stale when the data snapshot (the newest filing) is more than 15 months old."""
    today = today or utcnow().date()
    month = package_date.month - 1 + STALE_AFTER_MONTHS
    year, month = package_date.year + month // 12, month % 12 + 1
    limit = date(year, month, min(package_date.day, calendar.monthrange(year, month)[1]))
    return today > limit


def _version_of(row: LearningPackage, ticker: str) -> PackageVersion:
    sources = row.data_sources if isinstance(row.data_sources, dict) else {}
    return PackageVersion(
        id=row.id, ticker=ticker, version=row.version, package_date=row.package_date, file_path=row.file_path,
        file_size_bytes=row.file_size_bytes, file_hash=row.file_hash, ingestion_method=row.ingestion_method,
        validation_status=row.validation_status, validation_errors=list(row.validation_errors or []),
        is_current=bool(row.is_current), created_at=row.created_at, created_by=row.created_by,
        fiscal_years=list(sources.get("fiscal_years") or []), stale=is_stale(row.package_date),
    )


def package_key(ticker: str, fiscal_year: int, version: int) -> str:
    return check_key(f"{KEY_PREFIX}/{ticker}_FY{fiscal_year}_v{version}.xlsx")


def build_package(
    engine: Engine, *, actor: Actor, ticker: str, companyfacts: str | Path | bytes, source_name: str | None = None,
    years: int = DEFAULT_YEARS, ingestion_method: str = "manual", force_current: bool = False,
    storage: Storage | None = None, template: str | None = None, fetched_on: date | None = None,
) -> BuildResult:
    """Build, validate, store and record a new package version for `ticker`.

    Bad input raises Invalid before anything is written. A package that fails
    validation is still stored, marked failed and not current, unless
    `force_current` (an audited admin decision)."""
    require(actor, "packages.build")
    storage = storage or default_storage()
    with read_scope(engine) as session:
        company = companies.get_by_ticker(session, ticker)
        if company.is_active is False:
            raise Conflict(f"{company.ticker} is deactivated; activate it before building a package.")
        company_id, ticker = company.id, company.ticker
        info_fields: dict[str, Any] = dict(company_name=company.company_name, fiscal_year_end=company.fiscal_year_end,
                           revenue_model_type=company.revenue_model_type,
                           revenue_driver_notes=company.revenue_driver_notes)
        expected_cik = company.sec_cik
        declared_fye = company.fiscal_year_end

    cf = load_companyfacts(companyfacts, name=source_name)
    check_cik(cf, expected_cik, ticker)
    st = build_statements(cf, ticker=ticker, fiscal_year_end=info_fields["fiscal_year_end"], years=years,
                          template=template)
    findings = validate(st)
    passed = not findings
    fiscal_years = [f"FY{y}" for y in st.years]
    info_fields["fiscal_year_end"] = st.fye.describe()
    data_sources = {
        "source_file": cf.source_name, "taxonomy": st.taxonomy, "template": st.template.name,
        "currency": st.currency, "fiscal_year_end": st.fye.describe(), "fiscal_years": fiscal_years,
        "period_ends": {f"FY{y}": d.isoformat() for y, d in st.period_ends.items()},
        "filings": st.filings(), "figures": st.figures(),
    }

    built_at = utcnow()
    package_date = snapshot_date(st, fetched_on)
    # Reserve the version (a short write, no I/O), store the workbook with no lock
    # held, then record and flip current in a second short write. A failure after
    # the reservation removes the reserved row; a failure before the final commit
    # also removes the stored file, but never once that commit may have happened.
    package_id, version, key = _reserve(engine, company_id=company_id, ticker=ticker, year=st.years[-1],
                                        package_date=package_date, data_sources=data_sources,
                                        ingestion_method=ingestion_method, actor=actor)
    stored = None
    try:
        content = write_workbook(st, PackageInfo(ticker=ticker, version=version, built_at=built_at,
                                                   source_file=cf.source_name, **info_fields), findings)
        stored = storage.put(key, io.BytesIO(content))
        with session_scope(engine, immediate=True) as session:
            session.execute(select(LearningCompany.id).where(LearningCompany.id == company_id).with_for_update())
            row = session.get_one(LearningPackage, package_id)
            newest_current = session.scalar(select(func.max(LearningPackage.version)).where(
                LearningPackage.company_id == company_id, LearningPackage.is_current.is_(True)))
            # Two builds racing: the higher version wins, whichever finishes first.
            make_current = (passed or force_current) and (newest_current is None or newest_current < version)
            if make_current:
                session.execute(update(LearningPackage).where(
                    LearningPackage.company_id == company_id, LearningPackage.is_current.is_(True),
                ).values(is_current=False))
                session.flush()
            row.file_size_bytes, row.file_hash = stored.size, stored.sha256
            row.validation_status = "passed" if passed else "failed"
            row.validation_errors = [f.as_dict() for f in findings]
            row.is_current = make_current
            if not declared_fye:
                company = session.get_one(LearningCompany, company_id)
                company.fiscal_year_end = company.fiscal_year_end or st.fye.describe()
            audit.record(session, actor, "package.build", target_type="package", target_id=row.id, details={
                "ticker": ticker, "version": version, "status": row.validation_status, "file": stored.key,
                "ingestion_method": ingestion_method, "source_file": cf.source_name,
                **({"fiscal_year_end_inferred": st.fye.describe()} if not declared_fye else {}),
            })
            if force_current and not passed:
                audit.record(session, actor, "package.force_current", target_type="package", target_id=row.id,
                             details={"ticker": ticker, "version": version, "findings": len(findings)})
            result = BuildResult(
                package_id=row.id, ticker=ticker, version=version, file_path=stored.key, file_hash=stored.sha256,
                file_size_bytes=stored.size, validation_status=row.validation_status,
                validation_errors=row.validation_errors, fiscal_years=fiscal_years, is_current=make_current,
                fiscal_year_end=st.fye.describe(), package_date=package_date,
            )
    except CommitOutcomeUnknown:
        raise  # the row may exist: keep its file (`ngi storage reconcile` reports an orphan)
    except BaseException:
        if stored is not None:
            storage.delete(key)
        _release(engine, package_id)
        raise
    return result


def snapshot_date(st, fetched_on: date | None = None) -> date:
    """The date of the data snapshot: when the newest filing in the package was filed,
    or the fetch date when no filing date is known."""
    filed = [date.fromisoformat(f["filed"]) for f in st.filings()]
    return max(filed) if filed else (fetched_on or utcnow().date())


def _reserve(engine: Engine, *, company_id: int, ticker: str, year: int, package_date: date, data_sources: dict,
             ingestion_method: str, actor: Actor) -> tuple[int, int, str]:
    with session_scope(engine, immediate=True) as session:
        # Serialise version numbers: the row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite).
        session.execute(select(LearningCompany.id).where(LearningCompany.id == company_id).with_for_update())
        version = (session.scalar(
            select(func.max(LearningPackage.version)).where(LearningPackage.company_id == company_id)) or 0) + 1
        key = package_key(ticker, year, version)
        row = LearningPackage(company_id=company_id, version=version, package_date=package_date, file_path=key,
                              data_sources=data_sources, ingestion_method=ingestion_method,
                              validation_status=BUILDING, validation_errors=[], is_current=False,
                              created_by=actor.id)
        session.add(row)
        session.flush()
        return row.id, version, key


def _release(engine: Engine, package_id: int) -> None:
    """Compensation: remove a reserved version whose build did not complete."""
    with session_scope(engine, immediate=True) as session:
        session.execute(delete(LearningPackage).where(LearningPackage.id == package_id,
                                                      LearningPackage.validation_status == BUILDING))


def fetch_and_build(engine: Engine, *, actor: Actor, ticker: str, years: int = DEFAULT_YEARS,
                    force_current: bool = False, storage: Storage | None = None) -> BuildResult:
    """Download the company's companyfacts from the SEC, then build as above."""
    from core.sec.fetch import companyfacts_url, fetch_companyfacts

    require(actor, "packages.build")
    with read_scope(engine) as session:
        company = companies.get_by_ticker(session, ticker)
        cik, ticker = company.sec_cik, company.ticker
    if not cik:
        raise Invalid(f"{ticker} has no SEC CIK; set one before fetching its filings.")
    content = fetch_companyfacts(cik)
    return build_package(engine, actor=actor, ticker=ticker, companyfacts=content,
                         source_name=companyfacts_url(cik).rsplit("/", 1)[-1], years=years,
                         ingestion_method="automated", force_current=force_current, storage=storage,
                         fetched_on=utcnow().date())


def list_versions(session: Session, *, actor: Actor, ticker: str) -> list[PackageVersion]:
    require(actor, "packages.read")
    company = companies.get_by_ticker(session, ticker)
    rows = session.scalars(select(LearningPackage).where(LearningPackage.company_id == company.id)
                           .order_by(LearningPackage.version.desc()))
    return [_version_of(row, company.ticker) for row in rows]


def overview(session: Session, *, actor: Actor, include_inactive: bool = True) -> list[dict]:
    """One row per company: revenue model, driver notes and its current package."""
    require(actor, "packages.read")
    current = {p.company_id: p for p in session.scalars(
        select(LearningPackage).where(LearningPackage.is_current.is_(True)))}
    counts = dict(session.execute(select(LearningPackage.company_id, func.count())
                                  .group_by(LearningPackage.company_id)).all())
    out = []
    for company in companies.list_companies(session, include_inactive=include_inactive):
        pkg = current.get(company.id)
        out.append({
            "ticker": company.ticker, "company": company.company_name, "active": bool(company.is_active),
            "revenue_model": company.revenue_model_type, "driver_notes": company.revenue_driver_notes,
            "fiscal_year_end": company.fiscal_year_end,
            "current_version": pkg.version if pkg else None,
            "validation_status": pkg.validation_status if pkg else None,
            "package_date": pkg.package_date if pkg else None,
            "stale": is_stale(pkg.package_date) if pkg else None,
            "versions": counts.get(company.id, 0),
        })
    return out


def _package(session: Session, package_id: int) -> tuple[LearningPackage, str]:
    row = session.get(LearningPackage, package_id)
    if row is None:
        raise NotFound(f"No package with id {package_id}.")
    return row, row.company.ticker


def make_current(engine: Engine, *, actor: Actor, package_id: int, force: bool = False) -> PackageVersion:
    """Make an existing version current. A failed version needs `force` (audited)."""
    require(actor, "packages.build")
    with session_scope(engine, immediate=True) as session:
        row, ticker = _package(session, package_id)
        session.execute(select(LearningCompany.id).where(LearningCompany.id == row.company_id).with_for_update())
        if row.validation_status == BUILDING:
            raise Conflict(f"{ticker} v{row.version} is still being built; it cannot be made current yet.")
        if row.validation_status != "passed" and not force:
            raise Conflict(f"{ticker} v{row.version} failed validation; only an admin forcing it can make it current.")
        session.execute(update(LearningPackage).where(
            LearningPackage.company_id == row.company_id, LearningPackage.is_current.is_(True),
            LearningPackage.id != row.id).values(is_current=False))
        session.flush()
        row.is_current = True
        action = "package.force_current" if row.validation_status != "passed" else "package.make_current"
        audit.record(session, actor, action, target_type="package", target_id=row.id,
                     details={"ticker": ticker, "version": row.version})
        session.flush()
        return _version_of(row, ticker)


def download(session: Session, *, actor: Actor, package_id: int, storage: Storage | None = None) -> tuple[str, bytes]:
    """(file name, bytes) of a stored package, for roles that may download."""
    require(actor, "packages.download")
    row, _ = _package(session, package_id)
    content = (storage or default_storage()).read_bytes(row.file_path)
    if row.file_hash and hashlib.sha256(content).hexdigest() != row.file_hash:
        raise Conflict(f"The stored file {row.file_path} no longer matches its recorded SHA-256; rebuild the package.")
    return row.file_path.rsplit("/", 1)[-1], content


def compare(session: Session, *, actor: Actor, old_id: int, new_id: int) -> list[dict]:
    """Every figure of two versions side by side: sheet, line, year, old, new, and what
    happened to it: "restated" (same line and year, a different value; `difference`
    and `percent` give the size), "added" or "dropped" (a year or line only one version
    has), or "same". `changed` is true for restatements only, so a new fiscal year
    does not bury a real restatement."""
    require(actor, "packages.read")
    old_row, _ = _package(session, old_id)
    new_row, _ = _package(session, new_id)
    old_fig = (old_row.data_sources or {}).get("figures") or {}
    new_fig = (new_row.data_sources or {}).get("figures") or {}
    rows = []
    for sheet in dict.fromkeys([*new_fig, *old_fig]):
        lines = dict.fromkeys([*new_fig.get(sheet, {}), *old_fig.get(sheet, {})])
        for line in lines:
            old_vals, new_vals = old_fig.get(sheet, {}).get(line, {}), new_fig.get(sheet, {}).get(line, {})
            for year in sorted(set(old_vals) | set(new_vals)):
                a, b = old_vals.get(year), new_vals.get(year)
                if a is not None and b is not None:
                    change = "restated" if abs(a - b) > RESTATED_BELOW else "same"
                else:
                    change = "added" if b is not None else "dropped" if a is not None else "same"
                difference = b - a if change == "restated" else None
                rows.append({"sheet": sheet, "line": line, "year": year, "old": a, "new": b, "change": change,
                             "changed": change == "restated", "difference": difference,
                             "percent": (difference / abs(a) * 100) if difference is not None and a else None})
    return rows


def compare_summary(rows: list[dict]) -> dict[str, int]:
    """How many figures were restated, added, dropped and unchanged."""
    counts = dict.fromkeys(("restated", "added", "dropped", "same"), 0)
    for row in rows:
        counts[row["change"]] += 1
    return counts


def version_dict(version: PackageVersion) -> dict:
    return asdict(version)
