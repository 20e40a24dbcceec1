"""Building, storing, versioning, comparing and downloading packages, on both databases."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from core import companies, packages
from core.access import Actor
from core.db import session_scope
from core.errors import Conflict, Forbidden, Invalid
from core.models import AuditLog, LearningPackage
from core.storage import LocalStorage
from tests.sec_support import FIXTURES, SNOW_FILE, register, shared_file
from tests.support import SETUP_ADMIN, staff_actor


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "files")


@pytest.fixture
def admin(engine):
    return staff_actor(engine, "admin")


def add(engine, *tickers):
    for ticker in tickers:
        register(engine, ticker)


def build(engine, actor, storage, ticker, fixture, **kw):
    path = FIXTURES / f"{fixture}.json" if not str(fixture).startswith("/") else fixture
    return packages.build_package(engine, actor=actor, ticker=ticker, companyfacts=path, storage=storage, **kw)


def stored_files(storage):
    return sorted(p.name for p in storage.root.rglob("*") if p.is_file()) if storage.root.exists() else []


def rows(engine, ticker=None):
    with session_scope(engine) as session:
        query = select(LearningPackage).order_by(LearningPackage.version)
        return list(session.scalars(query))


def test_build_records_version_file_hash_sources_and_audit(engine, admin, storage):
    add(engine, "RSTD")
    result = build(engine, admin, storage, "RSTD", "restated")
    assert (result.version, result.validation_status, result.is_current) == (1, "passed", True)
    assert result.file_path == "learning-packages/RSTD_FY2023_v1.xlsx"
    assert result.fiscal_years == ["FY2022", "FY2023"]
    content = storage.read_bytes(result.file_path)
    assert hashlib.sha256(content).hexdigest() == result.file_hash and len(content) == result.file_size_bytes
    [row] = rows(engine)
    # The snapshot date: when the newest filing in the package was filed, not the year end.
    assert row.package_date == date(2024, 2, 14) and row.created_by == admin.id
    assert row.ingestion_method == "manual" and row.validation_errors == []
    assert [(f["form"], f["accession"]) for f in row.data_sources["filings"]] == [("10-K", "0000900001-24-000012")]
    assert set(result.as_json()) == {"ticker", "version", "file_path", "file_hash", "file_size_bytes",
                                     "validation_status", "validation_errors", "fiscal_years",
                                     "fiscal_year_end", "package_date"}
    assert result.as_json()["package_date"] == "2024-02-14"
    with session_scope(engine) as session:
        actions = session.scalars(select(AuditLog.action)).all()
    assert "package.build" in actions


def test_second_build_becomes_current_and_history_is_kept(engine, admin, storage):
    add(engine, "RSTD")
    build(engine, admin, storage, "RSTD", "original")
    second = build(engine, admin, storage, "RSTD", "restated")
    assert second.version == 2
    with session_scope(engine) as session:
        versions = packages.list_versions(session, actor=SETUP_ADMIN, ticker="RSTD")
    assert [(v.version, v.is_current) for v in versions] == [(2, True), (1, False)]
    assert stored_files(storage) == ["RSTD_FY2022_v1.xlsx", "RSTD_FY2023_v2.xlsx"]


def test_comparison_highlights_the_restated_value(engine, admin, storage):
    add(engine, "RSTD")
    v1 = build(engine, admin, storage, "RSTD", "original")
    v2 = build(engine, admin, storage, "RSTD", "restated")
    with session_scope(engine) as session:
        diff = packages.compare(session, actor=SETUP_ADMIN, old_id=v1.package_id, new_id=v2.package_id)
    revenue_2022 = next(r for r in diff if r["line"] == "Revenue" and r["year"] == "FY2022")
    assert (revenue_2022["old"], revenue_2022["new"], revenue_2022["changed"]) == (1000.0, 1010.0, True)
    assert revenue_2022["change"] == "restated" and revenue_2022["difference"] == pytest.approx(10.0)
    assert revenue_2022["percent"] == pytest.approx(1.0)
    assets_2022 = next(r for r in diff if r["line"] == "Total Assets" and r["year"] == "FY2022")
    assert not assets_2022["changed"] and assets_2022["change"] == "same"
    # v1 has FY2021, v2 has FY2023: years added and dropped are counted apart, not as differences.
    assert {r["change"] for r in diff if r["year"] == "FY2023" and r["new"] is not None} == {"added"}
    assert {r["change"] for r in diff if r["year"] == "FY2021" and r["old"] is not None} == {"dropped"}
    summary = packages.compare_summary(diff)
    restated = {(r["line"], r["year"]) for r in diff if r["changed"]}
    assert summary["restated"] == len(restated) and ("Revenue", "FY2022") in restated
    assert all(year == "FY2022" for _, year in restated)


def test_failed_validation_is_stored_failed_and_not_current(engine, admin, storage):
    add(engine, "UNBL")
    result = build(engine, admin, storage, "UNBL", "unbalanced")
    assert (result.validation_status, result.is_current) == ("failed", False)
    assert result.validation_errors[0]["year"] == 2023
    assert "FY2023: Total Assets 600.0" in result.validation_errors[0]["message"]
    assert storage.exists(result.file_path)
    with session_scope(engine) as session:
        assert packages.overview(session, actor=SETUP_ADMIN)[0]["current_version"] is None
    with pytest.raises(Conflict, match="failed validation"):
        packages.make_current(engine, actor=admin, package_id=result.package_id)
    forced = packages.make_current(engine, actor=admin, package_id=result.package_id, force=True)
    assert forced.is_current and [r.is_current for r in rows(engine)] == [True]
    with session_scope(engine) as session:
        assert session.scalars(select(AuditLog.action).where(AuditLog.action == "package.force_current")).all()


def test_admin_can_force_a_failed_package_current_and_it_is_audited(engine, admin, storage):
    add(engine, "UNBL")
    result = build(engine, admin, storage, "UNBL", "unbalanced", force_current=True)
    assert result.is_current and result.validation_status == "failed"
    with session_scope(engine) as session:
        forced = session.scalars(select(AuditLog).where(AuditLog.action == "package.force_current")).all()
    assert len(forced) == 1 and forced[0].actor_id == admin.id


def test_failed_build_leaves_the_previous_current_version(engine, admin, storage, tmp_path):
    add(engine, "UNBL")
    doc = json.loads((FIXTURES / "unbalanced.json").read_text())
    for row in doc["facts"]["us-gaap"]["Liabilities"]["units"]["USD"]:
        if row["end"] == "2023-12-31":
            row["val"] = 400_000_000  # now balances: 400 + 200 = 600
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(doc))
    good = build(engine, admin, storage, "UNBL", str(fixed))
    bad = build(engine, admin, storage, "UNBL", "unbalanced")
    current = [r.version for r in rows(engine) if r.is_current]
    assert good.is_current and not bad.is_current and current == [1]


@pytest.mark.parametrize("ticker, fixture, message", [
    ("RSTD", "not_json", "is not JSON"),
    ("RSTD", "not_companyfacts", "not an SEC companyfacts file"),
    ("UNBL", "restated", "is for CIK 900001 .* but UNBL is registered with CIK 900003"),
    ("QTRO", "quarterly_only", "has no annual facts"),
    ("JPKK", "unknown_taxonomy", "no us-gaap or ifrs-full facts"),
    ("NREV", "no_revenue", "no annual revenue"),
])
def test_bad_input_stores_nothing(engine, admin, storage, ticker, fixture, message):
    add(engine, ticker, *({"RSTD", "UNBL"} - {ticker}))
    with pytest.raises(Invalid, match=message):
        build(engine, admin, storage, ticker, fixture)
    assert rows(engine) == [] and stored_files(storage) == []


def test_file_over_100_mb_stores_nothing(engine, admin, storage, tmp_path):
    add(engine, "RSTD")
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(100 * 1024 * 1024 + 1)
    with pytest.raises(Invalid, match="over 100 MB are refused"):
        build(engine, admin, storage, "RSTD", str(big))
    assert rows(engine) == [] and stored_files(storage) == []


def test_database_failure_after_storing_removes_the_file(engine, admin, storage, monkeypatch):
    add(engine, "RSTD")

    def boom(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(packages.audit, "record", boom)
    with pytest.raises(RuntimeError):
        build(engine, admin, storage, "RSTD", "restated")
    assert rows(engine) == [] and stored_files(storage) == []


def test_two_concurrent_builds_leave_exactly_one_current(engine, admin, storage, race):
    add(engine, "RSTD")
    results, errors = race(2, lambda _i: build(engine, admin, storage, "RSTD", "restated"))
    assert errors == []
    assert sorted(r.version for r in results) == [1, 2]
    with session_scope(engine) as session:
        current = session.scalars(select(LearningPackage.version).where(LearningPackage.is_current.is_(True))).all()
        total = session.scalar(select(func.count()).select_from(LearningPackage))
    assert current == [2] and total == 2


def test_roles_without_build_or_download_are_refused_in_core(engine, admin, storage):
    add(engine, "RSTD")
    result = build(engine, admin, storage, "RSTD", "restated")
    lead = staff_actor(engine, "program_lead")
    instructor = staff_actor(engine, "instructor")
    with session_scope(engine) as session:
        with pytest.raises(Forbidden):
            packages.download(session, actor=lead, package_id=result.package_id, storage=storage)
        name, content = packages.download(session, actor=instructor, package_id=result.package_id, storage=storage)
    assert name == "RSTD_FY2023_v1.xlsx" and hashlib.sha256(content).hexdigest() == result.file_hash
    with pytest.raises(Forbidden):
        build(engine, instructor, storage, "RSTD", "restated")


def test_tampered_file_is_not_served(engine, admin, storage):
    add(engine, "RSTD")
    result = build(engine, admin, storage, "RSTD", "restated")
    (storage.root / result.file_path).write_bytes(b"not the package")
    with session_scope(engine) as session, pytest.raises(Conflict, match="SHA-256"):
        packages.download(session, actor=admin, package_id=result.package_id, storage=storage)


def test_deactivated_company_keeps_history_and_refuses_new_builds(engine, admin, storage):
    add(engine, "RSTD")
    build(engine, admin, storage, "RSTD", "restated")
    companies.set_active(engine, actor=admin, ticker="RSTD", active=False)
    with pytest.raises(Conflict, match="deactivated"):
        build(engine, admin, storage, "RSTD", "restated")
    with session_scope(engine) as session:
        assert len(packages.list_versions(session, actor=SETUP_ADMIN, ticker="RSTD")) == 1
    instructor = Actor(id=None, email="i@x", display_name="I", role="instructor")
    with pytest.raises(Forbidden):
        companies.set_active(engine, actor=instructor, ticker="RSTD", active=True)


@pytest.mark.parametrize("package_date, today, stale", [
    (date(2023, 12, 31), date(2025, 3, 31), False),
    (date(2023, 12, 31), date(2025, 4, 1), True),
    (date(2025, 1, 31), date(2026, 4, 30), False),
    (date(2025, 1, 31), date(2026, 5, 1), True),
])
def test_stale_when_the_data_snapshot_is_over_15_months_old(package_date, today, stale):
    assert packages.is_stale(package_date, today) is stale


def test_real_us_gaap_filer_builds_a_passing_current_package(engine, admin, storage):
    add(engine, "SNOW")
    result = build(engine, admin, storage, "SNOW", str(shared_file(SNOW_FILE)))
    assert result.validation_status == "passed" and result.is_current
    assert result.file_path == "learning-packages/SNOW_FY2025_v1.xlsx"
    assert result.fiscal_years == ["FY2021", "FY2022", "FY2023", "FY2024", "FY2025"]
    with session_scope(engine) as session:
        [row] = session.scalars(select(LearningPackage)).all()
        assert row.package_date == date(2025, 3, 21)  # the FY2025 10-K's filing date
        assert {f["accession"] for f in row.data_sources["filings"]} >= {"0001640147-25-000052"}


# --- the CLI ------------------------------------------------------------------

def test_cli_build_json_and_list(db_url, engine, data_env, monkeypatch, capsys):
    from core.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    add(engine, "RSTD", "UNBL")
    assert main(["packages", "build", "RSTD", "--companyfacts", str(FIXTURES / "restated.json"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["version"] == 1 and out["validation_status"] == "passed"
    assert out["fiscal_years"] == ["FY2022", "FY2023"] and (data_env / "files" / out["file_path"]).is_file()

    assert main(["packages", "build", "UNBL", "--companyfacts", str(FIXTURES / "unbalanced.json")]) == 1
    printed = capsys.readouterr().out
    assert "UNBL v1: failed, not current" in printed and "FY2023: Total Assets 600.0" in printed

    assert main(["packages", "list", "RSTD"]) == 0
    assert "v1   2024-02-14 passed  manual" in capsys.readouterr().out


def test_cli_bad_input_is_one_error_line(db_url, engine, data_env, monkeypatch, capsys):
    from core.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    add(engine, "RSTD")
    assert main(["packages", "build", "RSTD", "--companyfacts", str(FIXTURES / "not_json.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: not_json.json is not JSON") and err.count("\n") == 1
    assert not (data_env / "files").exists() or not any((data_env / "files").rglob("*.xlsx"))


def test_migration_0007_turns_package_dates_into_snapshot_dates(engine):
    import importlib.util

    from core import schema
    from core.models import LearningCompany
    from tests.sec_support import ROOT

    path = next((ROOT / "migrations" / "versions").glob("0007_*.py"))
    spec = importlib.util.spec_from_file_location("m0007", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    schema.downgrade(engine, module.down_revision)
    with session_scope(engine) as session:
        deere = LearningCompany(ticker="DE", company_name="Deere & Company", fiscal_year_end="Sunday nearest October 31")
        session.add(deere)
        session.flush()
        old = {"filings": [{"filed": "2024-12-19"}, {"filed": "2023-12-15"}], "period_ends": {"FY2024": "2024-10-27"}}
        session.add(LearningPackage(company_id=deere.id, version=1, package_date=date(2024, 10, 27),
                                    file_path="learning-packages/DE_FY2024_v1.xlsx", data_sources=old))
        session.add(LearningPackage(company_id=deere.id, version=2, package_date=date(2024, 10, 27),
                                    file_path="learning-packages/DE_FY2024_v2.xlsx", data_sources={}, is_current=False))
    schema.upgrade(engine)
    with session_scope(engine) as session:
        dates = session.scalars(select(LearningPackage.package_date).order_by(LearningPackage.version)).all()
        fye = session.scalar(select(LearningCompany.fiscal_year_end))
    assert dates == [date(2024, 12, 19), date(2024, 10, 27)]  # no filings recorded: left alone
    assert fye == "last Sunday of October"


def test_cli_add_reads_the_fiscal_year_end_from_the_filing_and_edit_corrects_it(db_url, engine, data_env,
                                                                                 monkeypatch, capsys):
    from core.cli import main
    from core.models import LearningCompany

    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["companies", "add", "SNOW", "--cik", "1640147", "--name", "Snowflake Inc.",
                 "--companyfacts", str(shared_file(SNOW_FILE))]) == 0
    assert "fiscal year end: January 31 (inferred from the filing)" in capsys.readouterr().out
    assert main(["companies", "add", "WEEK", "--cik", "900002", "--name", "Fixture Warehouse Clubs"]) == 0
    assert "read from the filing at the first build" in capsys.readouterr().out
    # The first build infers the 52/53-week rule from the annual periods and stores it.
    assert main(["packages", "build", "WEEK", "--companyfacts", str(FIXTURES / "week52.json")]) == 0
    assert "fiscal year end: Sunday nearest August 31" in capsys.readouterr().out
    assert main(["companies", "edit", "WEEK", "--fiscal-year-end", "last sunday of august"]) == 0
    assert "WEEK fiscal year end is now last Sunday of August" in capsys.readouterr().out
    with session_scope(engine) as session:
        stored = dict(session.execute(select(LearningCompany.ticker, LearningCompany.fiscal_year_end)).all())
        edits = session.scalars(select(AuditLog.details).where(AuditLog.action == "company.edit")).all()
    assert stored == {"SNOW": "January 31", "WEEK": "last Sunday of August"}
    assert edits == [{"fiscal_year_end": {"from": "Sunday nearest August 31", "to": "last Sunday of August"}}]
    # A declared year end the filing contradicts is refused naming real dates.
    assert main(["companies", "edit", "WEEK", "--fiscal-year-end", "March 31"]) == 0
    assert main(["packages", "build", "WEEK", "--companyfacts", str(FIXTURES / "week52.json")]) == 1
    err = capsys.readouterr().err
    assert "end on 1 September 2024, 3 September 2023, 28 August 2022 (Sunday nearest August 31)" in err


@pytest.mark.parametrize("ticker, name, cik", [
    ("SNOW", "CIK0001640147.json", "1640147"), ("UBER", "CIK0001543151.json", "1543151"),
    ("TSM", "CIK0001046179.json", "1046179"), ("LPA", "CIK0001997711.json", "1997711"),
])
def test_every_shared_filer_builds_a_passing_current_package(engine, admin, storage, ticker, name, cik):
    companies.add_company(engine, actor=admin, ticker=ticker, company_name=ticker, cik=cik)
    result = packages.build_package(engine, actor=admin, ticker=ticker, companyfacts=shared_file(name),
                                    storage=storage)
    assert (result.validation_status, result.is_current) == ("passed", True), result.validation_errors


def test_workbook_is_stored_with_no_transaction_open_and_a_failed_store_leaves_nothing(engine, admin, storage):
    from core.models import LearningCompany

    add(engine, "RSTD")
    seen = {}
    real_put = storage.put

    def put_while_checking(key, source, **kw):
        # Another writer gets in while the file is stored: the build holds no lock here.
        with session_scope(engine, immediate=True) as session:
            session.scalars(select(LearningCompany)).first().revenue_driver_notes = "edited meanwhile"
            seen["reserved"] = session.scalars(select(LearningPackage.validation_status)).all()
        return real_put(key, source, **kw)

    storage.put = put_while_checking
    result = build(engine, admin, storage, "RSTD", "restated")
    assert seen["reserved"] == ["building"] and result.validation_status == "passed"

    def broken_put(key, source, **kw):
        raise OSError("disk full")

    storage.put = broken_put
    with pytest.raises(OSError):
        build(engine, admin, storage, "RSTD", "restated")
    assert [(r.version, r.validation_status) for r in rows(engine)] == [(1, "passed")]
    assert stored_files(storage) == ["RSTD_FY2023_v1.xlsx"]
