"""Automatic checks that hold feedback for review, the composite score, and the
on-submit hook that must never raise."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.feedback import checks, on_submission_validated
from core.feedback.generation import composite
from core.feedback.providers import InvalidReply, parse_reply
from core.models import FeedbackFailure, LearningFeedback, LearningSubmission
from tests.feedback_fixtures import GOOD_REPLY, add_submission, passing_report

FAILED_TIE = passing_report(warnings=[{"id": "bs_balances", "status": "failed", "findings": [
    {"sheet": "Balance Sheet", "cell": "E4", "expected": 100, "actual": 90}]}])
SECRETS = ["jane.quarterman@example.edu", "Jane Quarterman", "Jane", "Quarterman"]


def reply(**changes):
    return {**GOOD_REPLY, **changes}


def codes(data, *, report=None, reference=None):
    return [f["code"] for f in checks.run(data, report=report or passing_report(), secrets=SECRETS,
                                          reference_scores=reference)]


def test_good_reply_raises_no_flag():
    assert codes(reply(), reference=GOOD_REPLY["scores"]) == []


def test_praising_a_failed_tie_contradicts_the_validators():
    praising = reply(strengths=["Your balance sheet balances in every forecast year."])
    flags = checks.run(praising, report=FAILED_TIE, secrets=[], reference_scores=None)
    assert flags[0]["code"] == "contradicts_validators" and "bs_balances" in flags[0]["message"]
    # Naming the failure is not praise, and praising the cash tie is not praising the balance sheet.
    honest = reply(strengths=["Ending cash ties to the balance sheet."],
                   feedback_text=GOOD_REPLY["feedback_text"] + " The balance sheet does not balance in FY2026E.")
    assert codes(honest, report=FAILED_TIE) == []
    # The same praise is fine when the check passed.
    assert codes(praising) == []


@pytest.mark.parametrize("leak, expected", [
    ("Email me at jq@school.edu if stuck.", "an email address"),
    ("Call (212) 555-0148 with questions.", "a phone number"),
    ("Jane Quarterman, this is solid.", "the student's name"),
    ("Nice work Quarterman.", "part of the student's name"),
])
def test_personal_data_is_flagged(leak, expected):
    flags = checks.run(reply(feedback_text=GOOD_REPLY["feedback_text"] + " " + leak), report=passing_report(),
                       secrets=SECRETS, reference_scores=None)
    assert flags and flags[0]["code"] == "personal_data" and expected in flags[0]["message"]


def test_financial_figures_are_not_mistaken_for_phone_numbers():
    text = GOOD_REPLY["feedback_text"] + " Revenue 2023 2024 2025 grows to 1,204,556 and 212.555.01 in FY2026E."
    assert codes(reply(feedback_text=text)) == []


def test_short_and_non_english_feedback_is_flagged():
    assert codes(reply(feedback_text="Good model. Fix the balance sheet.")) == ["too_short"]
    german = ("Ihr Modell ist insgesamt gut aufgebaut, jedoch stimmt die Bilanz im Jahr 2026 nicht überein. "
              "Bitte prüfen Sie die Gewinnrücklagen und verknüpfen Sie den Jahresüberschuss mit der "
              "Kapitalflussrechnung. Dokumentieren Sie außerdem Ihre Annahmen neben den Eingaben, damit "
              "Prüfer nachvollziehen können, woher Wachstum und Margen kommen. Die Darstellung der Perioden "
              "ist klar, die Begründung der Prognose fehlt jedoch weitgehend in allen Blättern des Modells.")
    assert codes(reply(feedback_text=german)) == ["not_english"]


def test_scores_far_from_the_rubric_coach_are_flagged():
    reference = {"accuracy": 50, "documentation": 60, "presentation": 85, "reasoning": 80}
    flags = checks.run(reply(), report=passing_report(), secrets=[], reference_scores=reference)
    assert [f["code"] for f in flags] == ["score_disagreement"]
    assert "accuracy 88 vs 50" in flags[0]["message"]
    assert codes(reply(), reference={**reference, "accuracy": 60}) == []  # 28 apart is fine


def test_out_of_range_scores_become_hold_reasons():
    assert checks.out_of_range({"accuracy": 101, "documentation": -5, "presentation": 0, "reasoning": 100}) == [
        "The accuracy score is 101, outside 0-100.", "The documentation score is -5, outside 0-100."]


def test_schema_parsing_rejects_what_it_cannot_store():
    for raw, reason in [("", "empty"), ("[1]", "not a JSON object"), ('{"feedback_text": "x"}', "lacks"),
                        ('{"feedback_text": "x", "strengths": "a", "areas_for_improvement": [], '
                         '"specific_suggestions": [], "scores": {}}', "strengths must be a list")]:
        with pytest.raises(InvalidReply, match=reason):
            parse_reply(raw)
    import json

    with pytest.raises(InvalidReply, match="cannot be stored"):
        parse_reply(json.dumps(reply(scores={**GOOD_REPLY["scores"], "accuracy": 5000})))


def test_composite_uses_activity_weights_or_equal_ones():
    scores = {"accuracy": 90, "documentation": 50, "presentation": 70, "reasoning": 60}
    assert composite(scores, {"accuracy": 0.5, "documentation": 0.5, "presentation": 0, "reasoning": 0}) == 70
    assert composite(scores, {}) == 67.5
    assert composite(scores, {"accuracy": 3, "documentation": 1, "presentation": 0, "reasoning": 0}) == 80


def test_on_submit_hook_generates_and_never_raises(seeded_engine, data_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    passed = add_submission(seeded_engine, student_id=1)
    failed = add_submission(seeded_engine, student_id=2, email="b@example.edu", status="failed")
    on_submission_validated(seeded_engine, passed)
    on_submission_validated(seeded_engine, failed)
    on_submission_validated(seeded_engine, 424242)
    with session_scope(seeded_engine) as session:
        rows = session.scalars(select(LearningFeedback)).all()
        assert [(r.submission_id, r.provider) for r in rows] == [(passed, "rubric")]
        assert session.get(LearningSubmission, passed).feedback_status == "generated"
        assert session.get(LearningSubmission, failed).feedback_status is None


def test_on_submit_hook_marks_retry_when_the_api_is_down(seeded_engine, data_env, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    sub = add_submission(seeded_engine)
    import core.feedback.providers as providers

    monkeypatch.setattr(providers.OpenAIProvider, "_delay", lambda self, attempt, hint: 0.0)
    on_submission_validated(seeded_engine, sub)
    with session_scope(seeded_engine) as session:
        assert session.get(LearningSubmission, sub).feedback_status == "retry"
        failure = session.scalar(select(FeedbackFailure))
        assert failure.provider == "openai" and "connection error" in failure.error


def test_on_submit_can_be_switched_off(seeded_engine, data_env, monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    sub = add_submission(seeded_engine)
    on_submission_validated(seeded_engine, sub)
    with session_scope(seeded_engine) as session:
        assert session.scalars(select(LearningFeedback)).all() == []
