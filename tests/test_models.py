"""Constraints and ON DELETE rules are enforced by the database itself."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import companies
from core.db import session_scope
from core.models import (
    LearningCompany,
    LearningContent,
    LearningLeaderboard,
    LearningPackage,
    LearningProgress,
    LearningSubmission,
    LearningTelemetry,
    Student,
)


def _student(session, n=1):
    student = Student(email=f"s{n}@example.edu", full_name=f"Student {n}", cohort="2026-fall")
    session.add(student)
    session.flush()
    return student


def _company(session, ticker="TSLA"):
    company = LearningCompany(ticker=ticker, company_name=f"{ticker} Inc.")
    session.add(company)
    session.flush()
    return company


def _package(company, version, current):
    return LearningPackage(
        company_id=company.id, version=version, package_date=date(2024, 12, 31),
        file_path=f"learning-packages/{company.ticker}_FY2024_v{version}.xlsx", is_current=current,
    )


def _submission(student, company, version, latest, activity="a2_wc_debt"):
    return LearningSubmission(
        user_id=student.id, company_id=company.id, activity_id=activity, module="accounting_i",
        submission_type="excel", version=version, file_path=f"submissions/{student.id}/{activity}/{version}.xlsx",
        file_name="model.xlsx", is_latest=latest,
    )


def _rejected(engine, build) -> bool:
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        build(session)
    return True


def test_defaults_match_the_appendix(engine):
    with session_scope(engine) as session:
        company = _company(session)
        student = _student(session)
        session.add(LearningProgress(user_id=student.id))
        session.add(_submission(student, company, 1, None))
    with session_scope(engine) as session:
        company = session.scalar(select(LearningCompany))
        progress = session.scalar(select(LearningProgress))
        assert company.is_active is True
        assert company.created_at is not None and company.created_at.tzinfo is not None
        assert progress.completion_percentage == 0 and progress.current_streak_days == 0
        assert progress.capstone_submitted is False
        assert session.scalar(select(LearningSubmission.is_latest)) is True


@pytest.mark.parametrize(
    "case",
    ["ticker", "progress_user", "package_version", "submission_version", "leaderboard_user_company",
     "content_key", "two_current_packages", "two_latest_submissions"],
)
def test_database_rejects_duplicates(engine, case):
    with session_scope(engine) as session:
        company = _company(session)
        student = _student(session)
        session.add(LearningProgress(user_id=student.id))
        session.add(_package(company, 1, True))
        first = _submission(student, company, 1, True)
        session.add(first)
        session.add(LearningContent(content_type="module", content_key="m1", title="M", sequence_order=1))
        session.flush()
        session.add(LearningLeaderboard(
            user_id=student.id, company_id=company.id, submission_id=first.id, valuation_date=date(2025, 1, 1),
            anonymous_id="Analyst_AAAAAA", final_price_target=100,
        ))
        ids = dict(company=company.id, student=student.id, submission=first.id)

    def build(session):
        company = session.get(LearningCompany, ids["company"])
        student = session.get(Student, ids["student"])
        match case:
            case "ticker":
                session.add(LearningCompany(ticker="TSLA", company_name="Another"))
            case "progress_user":
                session.add(LearningProgress(user_id=student.id))
            case "package_version":
                session.add(_package(company, 1, False))
            case "submission_version":
                session.add(_submission(student, company, 1, False))
            case "leaderboard_user_company":
                session.add(LearningLeaderboard(
                    user_id=student.id, company_id=company.id, submission_id=ids["submission"],
                    valuation_date=date(2025, 1, 2), anonymous_id="Analyst_BBBBBB",
                ))
            case "content_key":
                session.add(LearningContent(content_type="unit", content_key="m1", title="U", sequence_order=1))
            case "two_current_packages":
                session.add(_package(company, 2, True))
            case "two_latest_submissions":
                session.add(_submission(student, company, 2, True))
        session.flush()

    assert _rejected(engine, build)


def test_non_current_versions_may_accumulate(engine):
    """The partial indexes constrain only the flagged rows."""
    with session_scope(engine) as session:
        company = _company(session)
        student = _student(session)
        session.add_all([_package(company, v, v == 3) for v in (1, 2, 3)])
        session.add_all([_submission(student, company, v, v == 3) for v in (1, 2, 3)])
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(LearningPackage)) == 3
        assert session.scalar(select(func.count()).select_from(LearningSubmission)) == 3


def test_deleting_a_company_nulls_references_and_cascades_owned_rows(engine):
    with session_scope(engine) as session:
        company = _company(session)
        other = _company(session, "KO")
        student = _student(session)
        session.add(LearningProgress(user_id=student.id, selected_company_id=company.id))
        session.add(_package(company, 1, True))
        session.add(_package(other, 1, True))
        submission = _submission(student, company, 1, True)
        session.add(submission)
        session.flush()
        session.add(LearningTelemetry(user_id=student.id, event_type="lesson_view", company_id=company.id))
        session.add(LearningLeaderboard(
            user_id=student.id, company_id=company.id, submission_id=submission.id,
            valuation_date=date(2025, 1, 1), anonymous_id="Analyst_CCCCCC",
        ))
        company_id = company.id

    with session_scope(engine) as session:
        session.delete(session.get(LearningCompany, company_id))

    with session_scope(engine) as session:
        assert session.scalar(select(LearningProgress.selected_company_id)) is None
        assert session.scalar(select(func.count()).select_from(LearningTelemetry)) == 1
        assert session.scalar(select(LearningTelemetry.company_id)) is None
        assert session.scalar(select(LearningPackage.company_id)) == other.id  # only KO's package is left
        assert session.scalar(select(func.count()).select_from(LearningSubmission)) == 0
        assert session.scalar(select(func.count()).select_from(LearningLeaderboard)) == 0


def test_every_seeded_company_fits_every_column(engine):
    """PostgreSQL enforces VARCHAR lengths; the seed must fit (and SQLite keeps it honest)."""
    with session_scope(engine) as session:
        result = companies.seed_curated(session)
    assert result.created == 10
    columns = LearningCompany.__table__.columns
    for row in companies.CURATED:
        for key, value in row.items():
            length = getattr(columns[key].type, "length", None)
            if length and isinstance(value, str):
                assert len(value) <= length, f"{row['ticker']}.{key} is {len(value)} > {length}"
    with session_scope(engine) as session:
        cost = companies.get_by_ticker(session, "COST")
        assert cost.fiscal_year_end == "Sunday nearest August 31"
        assert cost.sec_cik == "909832"


def test_seed_is_idempotent(engine):
    with session_scope(engine) as session:
        companies.seed_curated(session)
    with session_scope(engine) as session:
        again = companies.seed_curated(session)
        assert (again.created, again.updated) == (0, 0)
        assert session.scalar(select(func.count()).select_from(LearningCompany)) == 10
