"""Cost accounting: prices by effective date, cached tokens, and the daily budget cap."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.auth import system_actor
from core.db import session_scope
from core.errors import Invalid
from core.feedback import generate, pricing
from core.feedback.providers import OpenAIProvider
from core.models import LearningFeedback
from tests.feedback_fixtures import GOOD_REPLY, FakeOpenAI, add_submission

PRICE_CHANGE = date(2026, 3, 1)


@pytest.fixture
def prices(tmp_path, monkeypatch):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {
        "gpt-test": [
            {"effective_from": "2026-01-01", "input": 1.00, "cached_input": 0.50, "output": 2.00},
            {"effective_from": PRICE_CHANGE.isoformat(), "input": 3.00, "cached_input": 1.00, "output": 4.00},
        ],
        "gpt-test-large": [{"effective_from": "2026-01-01", "input": 10.0, "output": 20.0}],
    }}))
    monkeypatch.setenv("NGI_PRICES_FILE", str(path))
    return path


@pytest.fixture
def server():
    fake = FakeOpenAI()
    yield fake
    fake.close()


def _provider(server):
    return OpenAIProvider(model="gpt-test", api_key="sk-local", base_url=server.base_url, timeout=5, backoff_s=0.01)


def test_price_in_force_follows_effective_dates(prices):
    assert pricing.price_for("gpt-test", date(2025, 12, 31)) is None
    assert pricing.price_for("gpt-test", date(2026, 2, 28)).input == Decimal("1.0")
    assert pricing.price_for("gpt-test", PRICE_CHANGE).input == Decimal("3.0")
    # a dated snapshot takes its family's price; the longest matching key wins
    assert pricing.price_for("gpt-test-2026-02-01", date(2026, 2, 1)).output == Decimal("2.0")
    assert pricing.price_for("gpt-test-large", date(2026, 2, 1)).input == Decimal("10.0")
    assert pricing.price_for("other-model", date(2026, 2, 1)) is None


def test_cost_counts_cached_tokens_at_their_rate(prices):
    cost = pricing.cost_usd("gpt-test", tokens_in=1_000_000, tokens_cached=400_000, tokens_out=100_000,
                            on=date(2026, 2, 1))
    assert cost == Decimal("0.600000") + Decimal("0.200000") + Decimal("0.200000")


def test_broken_price_file_names_the_entry(tmp_path, monkeypatch):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"gpt-x": [{"effective_from": "soon", "input": 1, "output": 2}]}}))
    monkeypatch.setenv("NGI_PRICES_FILE", str(path))
    with pytest.raises(Invalid, match=r"models.gpt-x\[0\]"):
        pricing.load_table()


def test_price_change_applies_only_to_feedback_after_that_date(seeded_engine, data_env, prices, server):
    sub = add_submission(seeded_engine)
    before = datetime(2026, 2, 27, 15, tzinfo=UTC)
    after = datetime(2026, 3, 2, 15, tzinfo=UTC)
    for _ in range(2):
        server.reply(GOOD_REPLY, prompt_tokens=100_000, completion_tokens=10_000, model="gpt-test-2026-02-01")
    old = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider=_provider(server), now=before)
    new = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider=_provider(server), now=after)
    with session_scope(seeded_engine) as session:
        old_row, new_row = session.get(LearningFeedback, old.feedback_id), session.get(LearningFeedback, new.feedback_id)
        # before: 0.1M × $1 + 0.01M × $2; after: 0.1M × $3 + 0.01M × $4
        assert old_row.openai_cost_usd == Decimal("0.120000")
        assert new_row.openai_cost_usd == Decimal("0.340000")
        assert old_row.created_at == before and new_row.created_at == after


def test_past_the_daily_budget_falls_back_to_the_rubric_coach(seeded_engine, data_env, prices, server, monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_DAILY_BUDGET_USD", "0.10")
    sub = add_submission(seeded_engine)
    morning = datetime(2026, 2, 10, 14, tzinfo=UTC)
    for _ in range(2):  # $0.12 each: the first already passes the cap
        server.reply(GOOD_REPLY, prompt_tokens=100_000, completion_tokens=10_000, model="gpt-test")

    first = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider=_provider(server), now=morning)
    second = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider=_provider(server), now=morning + timedelta(hours=2))
    assert first.provider == "openai" and first.notices == []
    assert second.provider == "rubric" and len(server.requests) == 1
    assert "daily OpenAI budget of $0.10 is used up" in second.notices[0]
    with session_scope(seeded_engine) as session:
        row = session.get(LearningFeedback, second.feedback_id)
        assert row.provider == "rubric" and row.openai_cost_usd == 0
        assert "offline rubric coach wrote this feedback instead" in row.prompt["notices"][0]
        assert pricing.spent_today(session, morning) == Decimal("0.12")

    # The next program day has a fresh budget.
    third = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub, provider=_provider(server), now=morning + timedelta(days=1))
    assert third.provider == "openai" and len(server.requests) == 2
