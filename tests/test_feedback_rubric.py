"""The offline rubric coach: specific, deterministic feedback from findings and figures."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.auth import system_actor
from core.db import session_scope
from core.errors import Invalid, NotFound
from core.feedback import generate
from core.models import LearningFeedback
from tests.feedback_fixtures import add_submission, passing_report, workbook_bytes


def _text(engine, feedback_id):
    with session_scope(engine) as session:
        row = session.get(LearningFeedback, feedback_id)
        return row.feedback_text, row


@pytest.fixture
def two_submissions(seeded_engine, data_env):
    steady = add_submission(
        seeded_engine, student_id=101, full_name="Ada Steady", email="ada@example.edu",
        data=workbook_bytes(revenue=[1000, 1100, 1210, 1331, 1464], net_income=[80, 90, 100, 110, 120],
                            notes=["Assumption: growth per 10-K guidance", "Source: FY2024 annual report",
                                   "Note: margins held at the three-year average"]),
    )
    unbalanced = add_submission(
        seeded_engine, student_id=102, full_name="Bo Rapid", email="bo@example.edu",
        data=workbook_bytes(revenue=[5200, 7300, 10400, 15100, 21900], net_income=[310, 150, -40, 620, 1850],
                            bs_gap=1204),
        report=passing_report(warnings=[{"id": "bs_balances", "findings": [{
            "sheet": "BS", "cell": "F19", "period": "FY2026E", "message": "Assets do not equal liabilities and equity",
            "expected": 52310, "actual": 53514}]}]),
    )
    return steady, unbalanced


def test_two_submissions_get_different_specific_feedback(seeded_engine, two_submissions):
    steady, unbalanced = (generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=s, provider="rubric") for s in two_submissions)
    text_a, row_a = _text(seeded_engine, steady.feedback_id)
    text_b, row_b = _text(seeded_engine, unbalanced.feedback_id)

    assert text_a != text_b
    # Each names its own figures and cells...
    assert "1,000 in FY2023 to 1,464 in FY2027E" in text_a and "10.0% a year" in text_a
    assert "5,200 in FY2023 to 21,900 in FY2027E" in text_b and "43.3% a year" in text_b
    assert "far above most companies' history" in text_b
    # ...and the validator finding as a reviewer would say it.
    assert "Your FY2026E balance sheet is off by 1,204 at BS!F19" in text_b
    assert "retained earnings roll forward from net income" in text_b
    assert "off by" not in text_a and "all 3 validator checks passed" in text_a
    # Documentation is judged from the notes actually in the file.
    assert any("3 notes on assumptions or sources" in s for s in row_a.strengths)
    assert any("No cell explains an assumption" in a for a in row_b.areas_for_improvement)
    assert row_a.rubric_accuracy > row_b.rubric_accuracy
    assert row_a.rubric_documentation > row_b.rubric_documentation


def test_feedback_never_reads_as_a_template(seeded_engine, two_submissions):
    for sub in two_submissions:
        outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider="rubric")
        text, row = _text(seeded_engine, outcome.feedback_id)
        everything = "\n".join([text, *row.strengths, *row.areas_for_improvement, *row.specific_suggestions])
        for blank in ("{", "}", "None", "nan", "N/A", "TBD", "XX", "(s)", "[", "__"):
            assert blank not in everything, blank
        assert len(text.split()) >= 40
        assert re.search(r"\b(BS|Income Statement)!F\d+", everything)  # cites a cell
        assert row.release_state == "released" and row.auto_flags == []  # passes its own checks


def test_same_submission_same_feedback_and_persona_changes_voice(seeded_engine, two_submissions):
    sub = two_submissions[1]
    first = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider="rubric")
    again = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider="rubric")
    credit = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider="rubric", persona="credit_analyst")
    text_1, _ = _text(seeded_engine, first.feedback_id)
    text_2, _ = _text(seeded_engine, again.feedback_id)
    text_3, row_3 = _text(seeded_engine, credit.feedback_id)
    assert text_1 == text_2
    assert text_3 != text_1 and text_3.startswith("I read your model from the lender's side")
    assert row_3.persona == "credit_analyst"


def test_failed_submission_gets_findings_not_feedback(seeded_engine, data_env):
    failed = add_submission(seeded_engine, status="failed")
    with pytest.raises(Invalid, match=f"Submission {failed} has not passed its validators"):
        generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=failed, provider="rubric")
    with pytest.raises(NotFound):
        generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=999999, provider="rubric")
    with pytest.raises(Invalid, match="Unknown persona"):
        generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=failed, provider="rubric", persona="oracle")
    with session_scope(seeded_engine) as session:
        assert session.scalars(select(LearningFeedback)).all() == []


def test_missing_file_still_gets_feedback_from_the_report(seeded_engine, data_env):
    from core.storage import default_storage

    sub = add_submission(seeded_engine)
    with session_scope(seeded_engine) as session:
        from core.models import LearningSubmission

        default_storage().delete(session.get(LearningSubmission, sub).file_path)
    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider="rubric")
    text, row = _text(seeded_engine, outcome.feedback_id)
    assert "all 3 validator checks passed" in text
    assert "could not be opened" in row.prompt["user"]


def test_reads_the_latest_validator_run_and_the_flat_findings_list(seeded_engine, data_env):
    """core.validation stores the full report on ValidatorRun and a flat list of findings
    (each naming its check) on the submission; both must reach the coach intact."""
    from core.models import LearningSubmission, ValidatorRun

    with_run = add_submission(seeded_engine, student_id=201, email="r@example.edu", report=[])
    flat = add_submission(seeded_engine, student_id=202, email="f@example.edu", report=[
        {"check": "cash_ties", "sheet": "Cash Flow", "cell": "F3", "period": "FY2027E",
         "message": "Ending cash does not match the balance sheet", "expected": 161, "actual": 150}])
    with session_scope(seeded_engine) as session:
        session.add(ValidatorRun(submission_id=with_run, status="passed", report={
            "status": "passed", "outputs": {}, "checks": [
                {"id": "required_sheets", "status": "passed", "findings": []},
                {"id": "bs_balances", "status": "passed", "findings": []},
                {"id": "price_targets", "status": "skipped", "findings": [], "note": "not a capstone"}]}))
        assert session.get(LearningSubmission, flat).validator_errors[0]["check"] == "cash_ties"

    text_run, row_run = _text(seeded_engine, generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=with_run, provider="rubric").feedback_id)
    text_flat, _ = _text(seeded_engine, generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=flat, provider="rubric").feedback_id)
    assert "all 2 validator checks passed" in text_run          # the skipped check counts neither way
    assert '"note": "not a capstone"' in row_run.prompt["user"]
    assert "Your FY2027E ending cash is off by 11 at Cash Flow!F3" in text_flat


def test_pdf_memo_is_read_as_text_with_the_name_redacted(seeded_engine, data_env):
    from tests.feedback_fixtures import pdf_bytes

    memo = ["Investment memo: BUY", "Our DCF gives 312 per share and comparables 298.",
            "Final price target 305, upside of 18 percent.", "Prepared by Jane Quarterman"]
    sub = add_submission(seeded_engine, activity="capstone", ext="pdf", data=pdf_bytes(memo),
                         report={"status": "passed", "checks": [], "outputs": {}})
    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider="rubric")
    text, row = _text(seeded_engine, outcome.feedback_id)
    assert "Final price target 305" in row.prompt["user"]
    assert "Quarterman" not in row.prompt["user"] and "Prepared by Analyst " in row.prompt["user"]
    assert "Your document runs to 24 words over 1 page and recommends BUY with a price target of 305" in text
    assert "I could not find a section on thesis, risks, catalysts" in text
    assert "At 24 words the document is too short to defend the call." in row.areas_for_improvement
    assert "statement sheets" not in text  # no workbook remarks on a memo
    assert "the validators found nothing to correct" in text
