"""The openai provider against a local OpenAI-compatible HTTP server: the real `openai`
client talks to it over HTTP through base_url, and we assert what ends up stored."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.auth import system_actor
from core.db import session_scope
from core.feedback import generate
from core.feedback.providers import OpenAIProvider
from core.models import AuditLog, FeedbackFailure, LearningFeedback, LearningSubmission
from tests.feedback_fixtures import GOOD_REPLY, FakeOpenAI, add_submission, completion, workbook_bytes

GOOD = GOOD_REPLY


@pytest.fixture
def server():
    fake = FakeOpenAI()
    yield fake
    fake.close()


@pytest.fixture
def submission(seeded_engine, data_env):
    return add_submission(seeded_engine, data=workbook_bytes(
        revenue=[1000, 1100, 1210, 1331, 1464], net_income=[80, 90, 100, 110, 120],
        notes=["Prepared by Jane Quarterman, jane.quarterman@example.edu"]))


def provider(server, **kw):
    return OpenAIProvider(model="gpt-4o-mini", api_key="sk-local-test", base_url=server.base_url,
                          timeout=kw.pop("timeout", 5), backoff_s=0.01, **kw)


def stored(engine, feedback_id):
    with session_scope(engine) as session:
        return session.get(LearningFeedback, feedback_id)


def test_structured_reply_is_stored_with_usage_and_cost(seeded_engine, submission, server, monkeypatch):
    # Configured only through the environment, as an operator would.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("NGI_OPENAI_MODEL", "gpt-4o-mini")
    server.reply(GOOD)

    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission)

    assert outcome.ok and outcome.provider == "openai"
    row = stored(seeded_engine, outcome.feedback_id)
    assert row.feedback_text == GOOD["feedback_text"]
    assert row.strengths == GOOD["strengths"]
    assert row.areas_for_improvement == GOOD["areas_for_improvement"]
    assert row.specific_suggestions == GOOD["specific_suggestions"]
    assert [row.rubric_accuracy, row.rubric_documentation, row.rubric_presentation, row.rubric_reasoning] == [
        Decimal("88"), Decimal("60"), Decimal("85"), Decimal("80")]
    # a2_wc_debt weights 0.45 / 0.2 / 0.1 / 0.25
    assert row.rubric_composite == Decimal("80.10")
    assert (row.openai_tokens_input, row.openai_tokens_output, row.openai_tokens_cached) == (20000, 1000, 0)
    # gpt-4o-mini: 20,000 × $0.15/M + 1,000 × $0.60/M
    assert row.openai_cost_usd == Decimal("0.003600")
    assert row.provider == "openai" and row.openai_model == "gpt-4o-mini-2024-07-18"
    assert row.release_state == "released" and row.auto_flags == [] and not row.is_flagged
    assert row.prompt["system"] in json.dumps(server.requests[0]["json"]["messages"][0]["content"])

    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer sk-local-test"
    assert sent["json"]["model"] == "gpt-4o-mini"
    assert sent["json"]["response_format"]["type"] == "json_schema"
    assert sent["json"]["response_format"]["json_schema"]["schema"]["required"][-1] == "scores"
    # What the model saw is what the moderator sees.
    assert sent["json"]["messages"][1]["content"] == row.prompt["user"]


def test_request_body_carries_no_student_name_email_or_id(seeded_engine, submission, server):
    server.reply(GOOD)
    generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server))
    body = server.raw_bodies[0]
    for secret in ("Jane", "Quarterman", "jane.quarterman", "example.edu", "987654"):
        assert secret not in body
    assert "Analyst " in body  # the anonymous label stands in for the student
    assert "Revenue" in body and "1,464" in body  # while the workbook's figures do go


def test_cached_input_tokens_are_charged_at_their_own_rate(seeded_engine, submission, server):
    server.reply(GOOD, prompt_tokens=20000, completion_tokens=1000, cached=16000)
    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server))
    row = stored(seeded_engine, outcome.feedback_id)
    assert row.openai_tokens_cached == 16000 and row.openai_tokens_input == 20000
    # 4,000 fresh × 0.15 + 16,000 cached × 0.075 + 1,000 out × 0.60, per million
    assert row.openai_cost_usd == Decimal("0.002400")


def test_malformed_reply_is_retried_once_then_recorded_as_failed(seeded_engine, submission, server):
    server.reply('{"feedback_text": "Good work", "strengths": [')          # not JSON
    server.reply({k: v for k, v in GOOD.items() if k != "scores"})         # JSON, but no scores

    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server))

    assert not outcome.ok and len(server.requests) == 2
    with session_scope(seeded_engine) as session:
        assert session.scalars(select(LearningFeedback)).all() == []
        failure = session.get(FeedbackFailure, outcome.failure_id)
        assert "lacks scores" in failure.error and "After 2 attempts" in failure.error
        assert failure.raw_reply == json.dumps({k: v for k, v in GOOD.items() if k != "scores"})
        assert (failure.openai_tokens_input, failure.openai_tokens_output) == (40000, 2000)
        assert failure.openai_cost_usd == Decimal("0.007200")  # failed calls are billed too
        sub = session.get(LearningSubmission, submission)
        assert sub.feedback_status == "retry" and sub.validator_status == "passed"
        assert session.scalar(select(AuditLog.action).where(AuditLog.target_id == str(submission))) == "feedback.failed"


def test_malformed_then_valid_reply_is_stored_with_both_calls_counted(seeded_engine, submission, server):
    server.reply("I think this model is great!")
    server.reply(GOOD)
    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server))
    row = stored(seeded_engine, outcome.feedback_id)
    assert row.feedback_text == GOOD["feedback_text"]
    assert row.openai_tokens_input == 40000 and row.prompt["attempts"] == 2


def test_rate_limit_then_success(seeded_engine, submission, server):
    server.script.append((429, {"error": {"message": "Rate limit reached", "type": "requests"}}, 0))
    server.reply(GOOD)
    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server))
    assert outcome.ok and len(server.requests) == 2
    assert stored(seeded_engine, outcome.feedback_id).rubric_accuracy == Decimal("88")


def test_server_errors_exhaust_retries_and_mark_for_retry(seeded_engine, submission, server):
    server.script += [(503, {"error": {"message": "overloaded"}}, 0)] * 3
    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server, max_attempts=3))
    assert not outcome.ok and len(server.requests) == 3
    assert "after 3 attempts" in outcome.error and "HTTP 503" in outcome.error


def test_timeout_records_failure_and_leaves_submission_for_retry(seeded_engine, submission, server):
    server.script.append((200, completion(json.dumps(GOOD)), 2.0))
    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server, timeout=0.3))
    assert not outcome.ok and "timed out after 0.3 seconds" in outcome.error
    with session_scope(seeded_engine) as session:
        assert session.scalars(select(LearningFeedback)).all() == []
        sub = session.get(LearningSubmission, submission)
        assert sub.feedback_status == "retry" and sub.is_latest and sub.validator_status == "passed"


def test_score_outside_range_is_held(seeded_engine, submission, server):
    server.reply({**GOOD, "scores": {**GOOD["scores"], "reasoning": 140}})
    outcome = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server))
    row = stored(seeded_engine, outcome.feedback_id)
    assert row.release_state == "held" and row.released_at is None
    assert "The reasoning score is 140, outside 0-100." in row.hold_reasons


def test_failed_regeneration_keeps_the_earlier_feedback_status(seeded_engine, submission, server):
    first = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider="rubric")
    server.script.append((200, completion(json.dumps(GOOD)), 2.0))
    again = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider=provider(server, timeout=0.3),
                     regenerated_from_id=first.feedback_id)
    assert not again.ok
    with session_scope(seeded_engine) as session:
        assert session.get(LearningSubmission, submission).feedback_status == "generated"
        assert session.get(FeedbackFailure, again.failure_id).error.startswith("The OpenAI request timed out")


def test_openai_without_a_key_is_refused_before_anything_is_recorded(seeded_engine, submission, monkeypatch):
    from core.errors import Invalid

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(Invalid, match="needs OPENAI_API_KEY"):
        generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=submission, provider="openai")
    with session_scope(seeded_engine) as session:
        assert session.scalars(select(FeedbackFailure)).all() == []
