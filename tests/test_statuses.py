"""Status columns: the database itself refuses a value outside core.statuses, on both
engines, and the migrated schema's constraints allow exactly the sets the code uses."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError

from core import schema, statuses
from core.db import Base, make_engine, session_scope
from core.errors import Conflict
from core.models import (
    LearningCompany,
    LearningFeedback,
    LearningPackage,
    LearningSubmission,
    Student,
    SubmissionOutcome,
    ValidatorRun,
)
from tests.support import fresh_postgres_database
from tests.test_schema import _autogenerate_diff, _tables

# case -> (model, status column, the values it allows)
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


# --- Migration 0008 -------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with fresh_postgres_database("ngi_statuses") as url:
            yield url

def _before_0008() -> str:
    return ScriptDirectory.from_config(schema.alembic_config()).get_revision("0008").down_revision


def _rows_with_statuses(engine, *, validator_status: str, ai_status: str, run_status: str) -> None:
    """Rows as an older release could have left them (plain tables: no model columns
    that later revisions add)."""
    t = {name: sa.table(name, *(sa.column(c) for c in cols)) for name, cols in {
        "students": ("id", "email"),
        "learning_companies": ("id", "ticker", "company_name"),
        "learning_packages": ("company_id", "version", "package_date", "file_path", "validation_status",
                              "is_current"),
        "learning_submissions": ("id", "user_id", "company_id", "activity_id", "module", "submission_type",
                                 "version", "file_path", "file_name", "validator_status", "ai_detection_status",
                                 "feedback_status"),
        "learning_validator_runs": ("submission_id", "status"),
    }.items()}
    with engine.begin() as conn:
        conn.execute(sa.insert(t["students"]).values(id=1, email="s@example.edu"))
        conn.execute(sa.insert(t["learning_companies"]).values(id=1, ticker="TSLA", company_name="Tesla, Inc."))
        conn.execute(sa.insert(t["learning_packages"]).values(
            company_id=1, version=1, package_date=date(2025, 1, 1), file_path="p.xlsx", validation_status="Passed",
            is_current=True))
        conn.execute(sa.insert(t["learning_submissions"]).values(
            id=1, user_id=1, company_id=1, activity_id="a2_wc_debt", module="accounting_i", submission_type="excel",
            version=1, file_path="s.xlsx", file_name="model.xlsx", validator_status=validator_status,
            ai_detection_status=ai_status, feedback_status=None))
        conn.execute(sa.insert(t["learning_validator_runs"]).values(submission_id=1, status=run_status))


def _insert_submission_status(engine, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(sa.table("learning_submissions", sa.column("validator_status")))
                     .values(validator_status=value))


def test_0008_normalises_old_spellings_and_round_trips(empty_url):
    engine = make_engine(empty_url)
    before = _before_0008()
    schema.upgrade(engine, before)
    _rows_with_statuses(engine, validator_status=" FAILED", ai_status="not run", run_status="failed")

    schema.upgrade(engine, "0008")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT validation_status FROM learning_packages").scalar_one() == "passed"
        assert conn.exec_driver_sql(
            "SELECT validator_status, ai_detection_status FROM learning_submissions").one() == ("failed", "not_run")
        assert conn.exec_driver_sql("SELECT count(*) FROM learning_validator_runs").scalar_one() == 1
    with pytest.raises(sa.exc.IntegrityError, match="ck_learning_submissions_validator_status"):
        _insert_submission_status(engine, "ok")

    schema.downgrade(engine, before)
    _insert_submission_status(engine, "ok")  # the constraint is gone with the revision
    _insert_submission_status(engine, "passed")
    schema.upgrade(engine)
    assert _tables(engine) == set(Base.metadata.tables)
    assert _autogenerate_diff(engine) is None
    with pytest.raises(sa.exc.IntegrityError):
        _insert_submission_status(engine, "ok")
    engine.dispose()


def test_0008_stops_on_unknown_values_naming_them_and_changes_nothing(empty_url):
    engine = make_engine(empty_url)
    before = _before_0008()
    schema.upgrade(engine, before)
    _rows_with_statuses(engine, validator_status="ok", ai_status="Clean", run_status="done")

    with pytest.raises(Conflict) as stopped:
        schema.upgrade(engine, "0008")
    message = str(stopped.value)
    assert "learning_submissions.validator_status holds 'ok' (1 row)" in message
    assert "learning_validator_runs.status holds 'done' (1 row)" in message
    assert "allowed: pending, passed, failed, rejected" in message
    assert schema.current_revision(engine) == before
    with engine.connect() as conn:  # not even the spelling fixes were kept
        assert conn.exec_driver_sql("SELECT ai_detection_status FROM learning_submissions").scalar_one() == "Clean"

    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE learning_submissions SET validator_status = 'passed'")
        conn.exec_driver_sql("UPDATE learning_validator_runs SET status = 'passed'")
    schema.upgrade(engine, "0008")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT ai_detection_status FROM learning_submissions").scalar_one() == "clean"
    engine.dispose()
