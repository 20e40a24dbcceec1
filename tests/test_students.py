"""GDPR erasure: one student's rows go, everything reached through them goes, and no
one else's rows are touched."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core import students
from core.db import session_scope
from core.errors import NotFound
from core.models import (
    LearningCompany,
    LearningFeedback,
    LearningLeaderboard,
    LearningProgress,
    LearningSubmission,
    LearningTelemetry,
    Student,
    ValidatorRun,
)
from tests.support import SETUP_ADMIN

USER_TABLES = [LearningProgress, LearningSubmission, LearningFeedback, LearningLeaderboard, LearningTelemetry]


def _fill(session, company, n):
    student = Student(email=f"gdpr{n}@example.edu", full_name=f"Student {n}")
    session.add(student)
    session.flush()
    session.add(LearningProgress(user_id=student.id, selected_company_id=company.id))
    submission = LearningSubmission(
        user_id=student.id, company_id=company.id, activity_id="capstone", module="finance_valuation",
        submission_type="excel", version=1, file_path=f"submissions/{student.id}/capstone/x.xlsx",
        file_name="m.xlsx", is_latest=True, validator_status="passed",
    )
    session.add(submission)
    session.flush()
    session.add(ValidatorRun(submission_id=submission.id, status="passed", report={"status": "passed"}))
    session.add(LearningFeedback(submission_id=submission.id, user_id=student.id, feedback_type="rubric",
                                 feedback_text="Good work."))
    session.add(LearningLeaderboard(user_id=student.id, company_id=company.id, submission_id=submission.id,
                                    valuation_date=date(2025, 3, 1), anonymous_id=f"Analyst_00000{n}",
                                    final_price_target=123))
    session.add(LearningTelemetry(user_id=student.id, event_type="submission", submission_id=submission.id,
                                  company_id=company.id))
    return student.id


def _count(session, model, user_id):
    return session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))


def test_erase_removes_everything_of_one_student_only(engine):
    with session_scope(engine) as session:
        company = LearningCompany(ticker="KO", company_name="Coca-Cola")
        session.add(company)
        session.flush()
        gone, kept = _fill(session, company, 1), _fill(session, company, 2)

    with session_scope(engine) as session:
        counts = students.erase(session, actor=SETUP_ADMIN, student_id=gone)
    assert counts["students"] == 1
    assert all(counts[m.__tablename__] == 1 for m in USER_TABLES)
    assert counts["learning_validator_runs"] == 1

    with session_scope(engine) as session:
        assert session.get(Student, gone) is None
        for model in USER_TABLES:
            assert _count(session, model, gone) == 0, model.__tablename__
            assert _count(session, model, kept) == 1, model.__tablename__
        # Reached through the erased submission, not the user id: gone as well.
        assert session.scalar(select(func.count()).select_from(ValidatorRun)) == 1


def test_erasing_an_unknown_student_says_so(engine):
    with session_scope(engine) as session, pytest.raises(NotFound, match="No student with id 999"):
        students.erase(session, actor=SETUP_ADMIN, student_id=999)
