"""The demo cohort: reproducible with a seed, every table filled, rows consistent, and
never generated outside demo mode."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
from datetime import date
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core import demo, packages
from core.companies import CURATED
from core.db import Base, make_engine, session_scope
from core.demo import companyfacts_for, filed_through, fiscal_year_end_date
from core.errors import Forbidden
from core.models import (
    LearningCompany,
    LearningFeedback,
    LearningLeaderboard,
    LearningPackage,
    LearningProgress,
    LearningSubmission,
    LearningTelemetry,
    StaffUser,
    Student,
)
from core.sec import build_statements, load_companyfacts, validate
from core.storage import storage_for
from tests.support import SETUP_ADMIN, DemoDB, truncate_all

TODAY = date(2026, 11, 20)
N = 30
# Filled only by `ngi telemetry import` (idempotency keys of imported events).
# learning_jobs: the demo writes its feedback directly, so no background job is left over.
# Filled only by what the demo does not do: imports, background jobs, authoring, erasure
# and browser sign-ins.
NOT_DEMO_TABLES = {"learning_telemetry_keys", "learning_jobs", "learning_content_revisions", "learning_erasures",
                   "staff_sessions"}


def _seed(engine, tmp_path, seed=7, students=N):
    return demo.seed_demo(engine, students=students, seed=seed, today=TODAY,
                          storage=storage_for(str(tmp_path / f"files{seed}")))


def _kind(url) -> str:
    return "sqlite" if str(url).startswith("sqlite") else "postgres"


@pytest.fixture
def cohort(db_url, demo_cohorts) -> DemoDB:
    """The seed-7 cohort of N students on db_url's engine, seeded once per session and
    shared: only for tests that change nothing."""
    return demo_cohorts.shared(_kind(db_url), students=N, seed=7, today=TODAY)


@pytest.fixture
def cohort_copy(db_url, demo_cohorts, tmp_path) -> DemoDB:
    """A copy of that cohort this test may change."""
    return demo_cohorts.copy(_kind(db_url), tmp_path / "cohort", students=N, seed=7, today=TODAY)


@pytest.fixture
def cohort_engine(cohort):
    eng = make_engine(cohort.url)
    yield eng
    eng.dispose()


def _snapshot(engine) -> dict:
    """Rows that must repeat. Not file hashes: workbooks stamp their creation time."""
    with session_scope(engine) as session:
        return dict(
            students=session.execute(select(Student.email, Student.full_name, Student.cohort)
                                     .order_by(Student.email)).all(),
            submissions=session.execute(
                select(Student.email, LearningSubmission.activity_id, LearningSubmission.version,
                       LearningSubmission.validator_status, LearningSubmission.validator_errors,
                       LearningSubmission.created_at)
                .join(Student, Student.id == LearningSubmission.user_id)
                .order_by(Student.email, LearningSubmission.activity_id, LearningSubmission.version)).all(),
            board=session.execute(select(Student.email, LearningLeaderboard.anonymous_id,
                                         LearningLeaderboard.final_price_target)
                                  .join(Student, Student.id == LearningLeaderboard.user_id)
                                  .order_by(Student.email)).all(),
            events=session.execute(select(LearningTelemetry.event_type, func.count())
                                   .group_by(LearningTelemetry.event_type)
                                   .order_by(LearningTelemetry.event_type)).all(),
            packages=session.execute(
                select(LearningCompany.ticker, LearningPackage.version, LearningPackage.package_date,
                       LearningPackage.validation_status, LearningPackage.is_current, LearningPackage.data_sources)
                .join(LearningCompany, LearningCompany.id == LearningPackage.company_id)
                .order_by(LearningCompany.ticker, LearningPackage.version)).all(),
        )


def test_same_seed_same_cohort_and_another_seed_differs(engine, cohort_engine, tmp_path):
    first = _snapshot(cohort_engine)  # seeded with seed 7 by demo_cohorts, in another database
    _seed(engine, tmp_path)
    assert _snapshot(engine) == first
    truncate_all(engine)
    _seed(engine, tmp_path, seed=8)
    other = _snapshot(engine)
    assert other["students"] != first["students"] and other["submissions"] != first["submissions"]
    assert other["packages"] != first["packages"]  # generated figures follow the seed


def test_every_table_is_filled_and_rows_are_consistent(cohort, cohort_engine, demo_cohorts):
    summary = demo_cohorts.summaries[(_kind(cohort.url), N, 7, TODAY)]
    assert summary.students == N and summary.leaderboard > 0 and summary.feedback > 0
    with session_scope(cohort_engine) as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in NOT_DEMO_TABLES:
                assert session.scalar(select(func.count()).select_from(table)), f"{table.name} is empty"

        subs = list(session.scalars(select(LearningSubmission)))
        # versions 1..n per (student, activity), exactly one latest, the highest
        by_key: dict[tuple, list] = {}
        for s in subs:
            by_key.setdefault((s.user_id, s.activity_id), []).append(s)
        assert any(len(v) > 1 for v in by_key.values())
        for versions in by_key.values():
            versions.sort(key=lambda s: s.version)
            assert [s.version for s in versions] == list(range(1, len(versions) + 1))
            assert [s.is_latest for s in versions] == [False] * (len(versions) - 1) + [True]
        statuses = {s.validator_status for s in subs}
        assert statuses == {"passed", "failed"}
        for s in subs:
            assert (s.validator_status == "failed") == bool(s.validator_errors)
            assert s.validator_runs and s.validator_runs[0].report["status"] == s.validator_status

        for fb in session.scalars(select(LearningFeedback)):
            assert fb.submission.validator_status == "passed" and fb.user_id == fb.submission.user_id
            assert fb.openai_tokens_input and fb.openai_cost_usd > 0 if fb.provider == "openai" else True
            assert fb.release_state in ("held", "released") and 0 <= fb.rubric_composite <= 100

        anon = re.compile(r"^Analyst_[0-9A-F]{6}$")
        seen = set()
        for entry in session.scalars(select(LearningLeaderboard)):
            sub = entry.submission
            assert (sub.activity_id, sub.validator_status, sub.user_id, sub.company_id) == \
                ("capstone", "passed", entry.user_id, entry.company_id)
            assert anon.match(entry.anonymous_id) and (entry.company_id, entry.anonymous_id) not in seen
            seen.add((entry.company_id, entry.anonymous_id))
            assert entry.final_price_target > 0

        # telemetry references the student's own submissions; progress exists for everyone
        mismatched = session.scalar(
            select(func.count()).select_from(LearningTelemetry)
            .join(LearningSubmission, LearningSubmission.id == LearningTelemetry.submission_id)
            .where(LearningSubmission.user_id != LearningTelemetry.user_id))
        assert mismatched == 0
        assert session.scalar(select(func.count()).select_from(LearningProgress)) == N
        weekdays = session.execute(select(LearningTelemetry.event_timestamp)
                                   .where(LearningTelemetry.event_type == "session_start")).scalars().all()
        weekday_share = sum(ts.weekday() < 5 for ts in weekdays) / len(weekdays)
        assert weekday_share > 5 / 7  # the weekday rhythm shows
        assert all(ts.date() < TODAY for ts in weekdays)

        sample = subs[0]
    stored = storage_for(str(cohort.data_dir / "files"))
    assert hashlib.sha256(stored.read_bytes(sample.file_path)).hexdigest() == sample.file_hash


def test_failed_checks_rollup_is_filled_from_failed_submissions(cohort_engine):
    from core.models import ValidatorCheckFailure

    with session_scope(cohort_engine) as session:
        assert session.scalar(select(func.count()).select_from(ValidatorCheckFailure))


def test_if_empty_leaves_a_populated_database_alone(cohort_copy, tmp_path):
    engine = make_engine(cohort_copy.url)
    before = _snapshot(engine)
    skipped = demo.seed_demo(engine, students=5, seed=99, today=TODAY, if_empty=True,
                             storage=storage_for(str(tmp_path / "other")))
    assert skipped.skipped and _snapshot(engine) == before
    assert sorted(role for _, _, role in skipped.accounts) == ["admin", "instructor", "program_lead"]
    engine.dispose()


def test_cli_refuses_outside_demo_mode_and_removes_demo_accounts(cohort_copy, monkeypatch):
    engine = make_engine(cohort_copy.url)
    demo_staff = select(func.count()).select_from(StaffUser).where(StaffUser.is_demo.is_(True))
    with session_scope(engine) as session:
        assert session.scalar(demo_staff) == 3
    monkeypatch.setenv("DATABASE_URL", cohort_copy.url)
    with pytest.raises(Forbidden, match="Demo mode is off"):
        demo.seed_demo_cli(engine, students=3, seed=1)
    with session_scope(engine) as session:
        assert session.scalar(demo_staff) == 0
    engine.dispose()


def _company(ticker: str) -> SimpleNamespace:
    return SimpleNamespace(**next(c for c in CURATED if c["ticker"] == ticker))


@pytest.mark.parametrize("ticker", [c["ticker"] for c in CURATED])
def test_generated_companyfacts_pass_the_real_checks_with_company_fiscal_years(ticker):
    company = _company(ticker)
    doc = companyfacts_for(ticker, company, random.Random(ticker), last_year=2025)
    cf = load_companyfacts(json.dumps(doc).encode(), name=f"{ticker}.json")
    st = build_statements(cf, ticker=ticker, fiscal_year_end=company.fiscal_year_end)
    assert st.years == [2021, 2022, 2023, 2024, 2025]
    assert all(st.period_ends[y] == fiscal_year_end_date(company.fiscal_year_end, y) for y in st.years)
    assert (ticker, validate(st)) == (ticker, [])
    expected = {"BUD": "ifrs-full", "GSBD": "investment-company"}.get(ticker, "us-gaap")
    assert st.template.name == expected
    # every year is in its own annual filing and again in the next one's comparatives
    revenue = doc["facts"][(cf.taxonomy("ifrs-full") and "ifrs-full") or "us-gaap"][
        {"BUD": "Revenue", "GSBD": "GrossInvestmentIncomeOperating"}.get(ticker, "Revenues")]["units"]["USD"]
    fy2023 = [r for r in revenue if r["end"] == st.period_ends[2023].isoformat()]
    assert sorted(r["fy"] for r in fy2023) == [2023, 2024, 2025]
    assert {r["form"] for r in fy2023} == {"20-F" if ticker == "BUD" else "10-K"}


def test_52_53_week_years_end_on_the_sunday_nearest_the_nominal_date():
    assert fiscal_year_end_date("Sunday nearest August 31", 2023) == date(2023, 9, 3)
    assert fiscal_year_end_date("Sunday nearest August 31", 2025) == date(2025, 8, 31)
    assert fiscal_year_end_date("Sunday nearest October 31", 2025) == date(2025, 11, 2)
    assert fiscal_year_end_date("December 31", 2024) == date(2024, 12, 31)


def test_demo_packages_are_real_builds_with_a_history(cohort, cohort_engine):
    stored = storage_for(str(cohort.data_dir / "files"))
    with session_scope(cohort_engine) as session:
        rows = session.execute(select(LearningCompany, LearningPackage)
                               .join(LearningPackage, LearningPackage.company_id == LearningCompany.id)
                               .order_by(LearningCompany.ticker, LearningPackage.version)).all()
        admin = session.scalar(select(StaffUser.id).where(StaffUser.email == "admin@demo.ngi"))
        by_ticker: dict[str, list] = {}
        for company, pkg in rows:
            by_ticker.setdefault(company.ticker, []).append(pkg)
            content = stored.read_bytes(pkg.file_path)
            assert hashlib.sha256(content).hexdigest() == pkg.file_hash
            book = load_workbook(io.BytesIO(content), read_only=True)
            assert book.sheetnames == [
                "Cover", "Income Statement", "Balance Sheet", "Cash Flow", "Revenue Drivers", "Sources", "Checks"]
            cover = " ".join(str(v) for row in book["Cover"].values for v in row if v is not None)
            assert "generated demo data, not SEC filings" in cover  # a download cannot pass for SEC data
            last_year = int(pkg.data_sources["fiscal_years"][-1][2:])
            # the snapshot date: the newest filing the package was built from, after its year ended
            assert pkg.package_date == max(date.fromisoformat(f["filed"]) for f in pkg.data_sources["filings"]) < TODAY
            assert pkg.package_date > fiscal_year_end_date(company.fiscal_year_end, last_year)
            assert "generated for the NGI demo" in pkg.data_sources["source_file"]
            assert "generated for the NGI demo" in cover  # the Cover's "Built from" line
            assert pkg.created_by == admin and pkg.created_at.date() <= TODAY
        assert {t: len(v) for t, v in by_ticker.items()} == {t: n for t, n in demo.PACKAGE_VERSIONS.items() if n}
        for ticker, versions in by_ticker.items():
            assert sum(p.is_current for p in versions) == 1, ticker
            assert [p.version for p in versions] == list(range(1, len(versions) + 1))
            dates = [p.package_date for p in versions]
            assert dates == sorted(dates) and len(set(dates)) == len(dates)  # each version adds a fiscal year

        tsla = by_ticker["TSLA"]
        assert [p.validation_status for p in tsla] == ["failed", "passed", "passed"] and not tsla[0].is_current
        assert {e["check"] for e in tsla[0].validation_errors} == {"balance"}
        assert packages.is_stale(by_ticker["GE"][-1].package_date, TODAY)
        assert not any(packages.is_stale(v[-1].package_date, TODAY) for t, v in by_ticker.items() if t != "GE")
        cost = by_ticker["COST"][-1]
        cost_year_end = fiscal_year_end_date("Sunday nearest August 31", 2026)
        assert cost_year_end == date(2026, 8, 30) and cost.package_date > cost_year_end

        # KO's latest 10-K restated the prior years' revenue: the version comparison shows it
        ko_old, ko_new = by_ticker["KO"]
        diff = packages.compare(session, actor=SETUP_ADMIN, old_id=ko_old.id, new_id=ko_new.id)
        changed = {(r["line"], r["year"]) for r in diff
                   if r["changed"] and r["old"] is not None and r["new"] is not None}
        assert ("Revenue", "FY2024") in changed and ("Gross profit", "FY2024") not in changed


def test_a_filing_cut_off_keeps_only_what_was_filed_by_then():
    doc = companyfacts_for("KO", _company("KO"), random.Random(1), last_year=2025)
    earlier = filed_through(doc, 2023)
    rows = [r for body in earlier["facts"]["us-gaap"].values() for rs in body["units"].values() for r in rs]
    assert rows and max(r["fy"] for r in rows) == 2023
    assert max(r["end"] for r in rows) == "2023-12-31"


def test_cli_prints_the_address_the_app_serves_on(cohort_copy, data_env, monkeypatch, capsys):
    # On a populated database with --if-empty: no second cohort to build (the CLI seeding an
    # empty one is the e2e fixture's `ngi seed --demo`); the address line is the same.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    engine = make_engine(cohort_copy.url)
    demo.seed_demo_cli(engine, students=3, seed=1, if_empty=True, url="http://localhost:8600")
    engine.dispose()
    out = capsys.readouterr().out
    assert "cohort left as it is" in out
    assert "sign in at http://localhost:8600" in out and "8501" not in out


def test_demo_grades_show_every_workflow_state(cohort_engine):
    from core.models import LearningGrade

    with session_scope(cohort_engine) as session:
        states = set(session.scalars(select(LearningGrade.state).distinct()))
        assert states == {"not_started", "in_progress", "graded", "released"}
        released = session.scalars(select(LearningGrade).where(LearningGrade.state == "released")).all()
        assert all(g.released_by is not None and g.overall_score is not None for g in released)
