"""Status columns: the database itself refuses a value outside core.statuses, on both
engines, and the migrated schema's constraints allow exactly the sets the code uses."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core import statuses
from core.db import session_scope
from core.models import (
    LearningCompany,
    LearningFeedback,
    LearningPackage,
    LearningSubmission,
    Student,
    SubmissionOutcome,
    ValidatorRun,
)

# (model, column, allowed values, how to build a row with that column set)
COLUMNS = {
    "validation_status": (LearningPackage, "validation_status", statuses.PACKAGE_VALIDATION),
    "validator_status": (LearningSubmission, "validator_status", statuses.VALIDATOR),
    "ai_detection_status": (LearningSubmission, "ai_detection_status", statuses.AI_DETECTION),
    "feedback_status": (LearningSubmission, "feedback_status", statuses.FEEDBACK),
    "validator_run_status": (ValidatorRun, "status", statuses.VALIDATOR),
    "outcome_status": (SubmissionOutcome, "validator_status", statuses.OUTCOME),
    "release_state": (LearningFeedback, "release_state", statuses.RELEASE),
}


@pytest.fixture
def parents(engine):
    with session_scope(engine) as session:
        student = Student(email="s@example.edu", full_name="Sam Student")
        company = LearningCompany(ticker="TSLA", company_name="Tesla, Inc.")
        session.add_all([student, company])
        session.flush()
        submission = LearningSubmission(
            user_id=student.id, company_id=company.id, activity_id="a2_wc_debt", module="accounting_i",
            submission_type="excel", version=1, file_path="submissions/1/a.xlsx", file_name="model.xlsx",
        )
        session.add(submission)
        session.flush()
        return {"student": student.id, "company": company.id, "submission": submission.id}


def _row(model, column: str, value, ids, n: int):
    match model.__name__:
        case "LearningPackage":
            return LearningPackage(company_id=ids["company"], version=n + 1, package_date=date(2025, 1, 1),
                                   file_path=f"learning-packages/TSLA_v{n + 1}.xlsx", is_current=False,
                                   **{column: value})
        case "LearningSubmission":
            return LearningSubmission(
                user_id=ids["student"], company_id=ids["company"], activity_id="a2_wc_debt", module="accounting_i",
                submission_type="excel", version=n + 2, file_path=f"submissions/1/{n}.xlsx", file_name="model.xlsx",
                is_latest=False, **{column: value})
        case "ValidatorRun":
            return ValidatorRun(submission_id=ids["submission"], **{column: value})
        case "SubmissionOutcome":
            return SubmissionOutcome(submission_id=ids["submission"], user_id=ids["student"],
                                     company_id=ids["company"], activity_id="a2_wc_debt", module="accounting_i",
                                     **{column: value})
        case "LearningFeedback":
            return LearningFeedback(submission_id=ids["submission"], user_id=ids["student"], feedback_type="rubric",
                                    feedback_text="Fine.", **{column: value})
    raise AssertionError(model)


@pytest.mark.parametrize("case", COLUMNS)
def test_database_refuses_an_unknown_status(engine, parents, case):
    model, column, _ = COLUMNS[case]
    table = model.__tablename__
    with pytest.raises(IntegrityError) as refused, session_scope(engine) as session:
        session.add(_row(model, column, "Passed ", parents, 0))  # a near miss is refused too
    assert f"ck_{table}_{column}" in str(refused.value)
    with session_scope(engine) as session:
        stored = session.scalar(sa.select(sa.func.count()).select_from(model).where(getattr(model, column) == "Passed "))
    assert stored == 0


@pytest.mark.parametrize("case", COLUMNS)
def test_every_known_status_is_accepted(engine, parents, case):
    model, column, allowed = COLUMNS[case]
    for n, value in enumerate(allowed):
        with session_scope(engine) as session:
            if model is SubmissionOutcome:  # keyed on the submission: one row at a time
                session.execute(sa.delete(SubmissionOutcome))
            row = _row(model, column, value, parents, n)
            session.add(row)
            session.flush()
            key = sa.inspect(row).identity
        with session_scope(engine) as session:
            assert getattr(session.get(model, key), column) == value


def test_a_service_writing_a_misspelt_status_is_refused_at_commit(engine, parents):
    """An update through the ORM (what generation does with feedback_status) is checked too."""
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.get(LearningSubmission, parents["submission"]).feedback_status = "retrying"
    with session_scope(engine) as session:
        assert session.get(LearningSubmission, parents["submission"]).feedback_status is None


def test_nullable_status_columns_still_take_null(engine, parents):
    with session_scope(engine) as session:
        sub = session.get(LearningSubmission, parents["submission"])
        assert (sub.validator_status, sub.ai_detection_status, sub.feedback_status) == (None, None, None)
        session.add(_row(LearningPackage, "validation_status", None, parents, 0))


def test_migrated_constraints_allow_exactly_the_sets_in_core_statuses(engine):
    """Autogenerate does not compare CHECK constraints, so this is the drift check for them."""
    inspector = sa.inspect(engine)
    for model, column, allowed in COLUMNS.values():
        table = model.__tablename__
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table)}
        sqltext = checks[f"ck_{table}_{column}"]
        assert sorted(re.findall(r"'([^']*)'", sqltext)) == sorted(allowed), (table, column, sqltext)
