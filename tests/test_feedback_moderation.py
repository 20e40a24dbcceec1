"""Moderation services: queue filters, the item view, audited admin actions that other
roles are refused, the cost panel and the agreement table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.auth import system_actor
from core.db import session_scope
from core.errors import Conflict, Forbidden, Invalid
from core.feedback import generate, moderation
from core.models import AuditLog, FeedbackFailure, LearningFeedback, LearningTelemetry
from tests.feedback_fixtures import add_submission, passing_report
from tests.support import staff_actor


@pytest.fixture
def setup(seeded_engine, data_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    a = add_submission(seeded_engine, student_id=11, email="a@example.edu", activity="a2_wc_debt")
    b = add_submission(seeded_engine, student_id=12, email="b@example.edu", activity="a1_drivers_map",
                       report=passing_report(warnings=[{"id": "revenue_build", "findings": [
                           {"sheet": "Revenue Drivers", "cell": "C9", "expected": 500, "actual": 430}]}]))
    fa = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=a).feedback_id
    fb = generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=b, persona="credit_analyst").feedback_id
    admin = staff_actor(seeded_engine, "admin")
    return seeded_engine, admin, fa, fb


def _audit(session, action):
    return session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def test_queue_filters(setup):
    engine, admin, fa, fb = setup
    with session_scope(engine) as session:
        everything = moderation.queue(session, actor=admin)
        assert list(everything["id"]) == [fb, fa]
        assert everything["student"].str.startswith("Analyst ").all()
        assert list(moderation.queue(session, actor=admin, activity="a1_drivers_map")["id"]) == [fb]
        assert list(moderation.queue(session, actor=admin, persona="project_lead")["id"]) == [fa]
        assert list(moderation.queue(session, actor=admin, model="rubric-coach-v1")["id"]) == [fb, fa]
        low = everything["composite"].min()
        assert len(moderation.queue(session, actor=admin, score_max=low)) == 1
        assert moderation.queue(session, actor=admin, flagged=True).empty
        tomorrow = datetime.now(UTC).date() + timedelta(days=2)
        assert moderation.queue(session, actor=admin, date_from=tomorrow).empty
        options = moderation.filter_options(session, actor=admin)
        assert options["activity"] == ["a1_drivers_map", "a2_wc_debt"] and "portfolio_manager" in options["persona"]


def test_item_shows_report_prompt_and_versions(setup):
    engine, admin, _fa, fb = setup
    with session_scope(engine) as session:
        shown = moderation.item(session, actor=admin, feedback_id=fb)
    assert shown["validator_report"]["checks"][-1]["findings"][0]["cell"] == "C9"
    assert shown["prompt"]["user"].startswith(f"Review the submission of {shown['student']}")
    assert shown["versions"][0]["id"] == fb and shown["persona"] == "credit_analyst"


def test_each_action_changes_the_row_and_is_audited(setup):
    engine, admin, fa, _ = setup
    moderation.flag(engine, actor=admin, feedback_id=fa, reason="Tone is too harsh")
    with session_scope(engine) as session:
        row = session.get(LearningFeedback, fa)
        assert row.is_flagged and row.flag_reason == "Tone is too harsh" and row.flagged_by == admin.id
        assert moderation.flagged_count(session, actor=admin) == 1
        original = row.feedback_text
    moderation.unflag(engine, actor=admin, feedback_id=fa, reason="Reread; it is fair")
    moderation.edit_text(engine, actor=admin, feedback_id=fa, text="Rewritten by a moderator. " + original)
    moderation.edit_text(engine, actor=admin, feedback_id=fa, text="Second edit.")
    with session_scope(engine) as session:
        row = session.get(LearningFeedback, fa)
        assert not row.is_flagged and row.flagged_by is None
        assert row.feedback_text == "Second edit." and row.original_text == original and row.edited_by == admin.id
    moderation.hold(engine, actor=admin, feedback_id=fa, reason="Check with the instructor")
    with session_scope(engine) as session:
        row = session.get(LearningFeedback, fa)
        assert row.release_state == "held" and row.hold_reasons[-1].endswith("Check with the instructor")
    moderation.release(engine, actor=admin, feedback_id=fa)
    with session_scope(engine) as session:
        row = session.get(LearningFeedback, fa)
        assert row.release_state == "released" and row.released_by == admin.id
        # generation released it once, the moderator released it again: two funnel events
        issued = session.scalars(select(LearningTelemetry).where(LearningTelemetry.event_type == "feedback_issued")
                                 .where(LearningTelemetry.submission_id == row.submission_id)).all()
        assert len(issued) == 2 and issued[-1].event_data["feedback_id"] == fa
        for action in ("feedback.flag", "feedback.unflag", "feedback.hold", "feedback.release"):
            assert [a.target_id for a in _audit(session, action)] == [str(fa)]
        assert len(_audit(session, "feedback.edit")) == 2
        assert all(a.actor_email == admin.email for a in _audit(session, "feedback.flag"))

    outcome = moderation.regenerate(engine, actor=admin, feedback_id=fa, persona="portfolio_manager")
    with session_scope(engine) as session:
        new = session.get(LearningFeedback, outcome.feedback_id)
        assert new.regenerated_from_id == fa and new.persona == "portfolio_manager"
        assert session.get(LearningFeedback, fa) is not None  # both kept
        assert _audit(session, "feedback.regenerate")[0].target_id == str(new.id)


def test_actions_refuse_bad_input_without_changing_anything(setup):
    engine, admin, fa, _ = setup
    with pytest.raises(Invalid, match="Give a reason"):
        moderation.flag(engine, actor=admin, feedback_id=fa, reason="  ")
    with pytest.raises(Invalid, match="cannot be empty"):
        moderation.edit_text(engine, actor=admin, feedback_id=fa, text="")
    with pytest.raises(Conflict, match="not flagged"):
        moderation.unflag(engine, actor=admin, feedback_id=fa, reason="x")
    with pytest.raises(Conflict, match="already released"):
        moderation.release(engine, actor=admin, feedback_id=fa)
    with session_scope(engine) as session:
        row = session.get(LearningFeedback, fa)
        row.rubric_reasoning, row.release_state = Decimal("140"), "held"
    with pytest.raises(Conflict, match="reasoning 140"):
        moderation.release(engine, actor=admin, feedback_id=fa)
    with session_scope(engine) as session:
        assert session.scalars(select(AuditLog).where(AuditLog.action.like("feedback.%"),
                                                      AuditLog.action != "feedback.generate")).all() == []


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_other_roles_may_read_but_not_moderate(setup, role):
    engine, _, fa, _ = setup
    actor = staff_actor(engine, role)
    with session_scope(engine) as session:
        assert len(moderation.queue(session, actor=actor)) == 2
        for action in (lambda: moderation.flag(engine, actor=actor, feedback_id=fa, reason="x"),
                       lambda: moderation.unflag(engine, actor=actor, feedback_id=fa, reason="x"),
                       lambda: moderation.edit_text(engine, actor=actor, feedback_id=fa, text="x"),
                       lambda: moderation.hold(engine, actor=actor, feedback_id=fa, reason="x"),
                       lambda: moderation.release(engine, actor=actor, feedback_id=fa),
                       lambda: moderation.regenerate(engine, actor=actor, feedback_id=fa),
                       lambda: generate(engine, submission_id=1, actor=actor)):
            with pytest.raises(Forbidden, match=r"feedback.moderate"):
                action()
        assert not session.get(LearningFeedback, fa).is_flagged


def test_cost_panel_and_agreement(setup):
    engine, admin, fa, fb = setup
    today = datetime.now(UTC)
    with session_scope(engine) as session:
        for fid, cost, model in ((fa, "0.020000", "gpt-4o-mini"), (fb, "0.030000", "gpt-4o")):
            row = session.get(LearningFeedback, fid)
            row.openai_cost_usd, row.openai_model, row.openai_tokens_input = Decimal(cost), model, 1000
        session.add(FeedbackFailure(submission_id=session.get(LearningFeedback, fa).submission_id, provider="openai",
                                    model="gpt-4o-mini", error="timed out", openai_cost_usd=Decimal("0.01"),
                                    created_at=today))
    moderation.flag(engine, actor=admin, feedback_id=fb, reason="Wrong tie praised")
    moderation.edit_text(engine, actor=admin, feedback_id=fb, text="Edited.")
    with session_scope(engine) as session:
        panel = moderation.cost_panel(session, actor=admin)
        table = moderation.agreement(session, actor=admin)
    assert panel["total_usd"] == pytest.approx(0.06)
    assert panel["per_day"]["cost_usd"].iloc[-1] == pytest.approx(0.06) and len(panel["per_day"]) == 30
    assert dict(zip(panel["per_model"]["model"], panel["per_model"]["cost_usd"])) == pytest.approx(
        {"gpt-4o-mini": 0.03, "gpt-4o": 0.03})
    by_activity = dict(zip(panel["per_activity"]["activity"], panel["per_activity"]["avg_per_submission"]))
    assert by_activity == pytest.approx({"a2_wc_debt": 0.03, "a1_drivers_map": 0.03})
    assert panel["avg_per_submission_usd"] == pytest.approx(0.03) and panel["failures"] == 1
    assert panel["tokens"]["tokens_in"] == 2000
    assert panel["month"]["remaining_usd"] == pytest.approx(500 - 0.06)
    top = table.iloc[0]
    assert (top["persona"], top["model"], top["moderator_flagged"], top["edited"], top["flag_rate"]) == (
        "credit_analyst", "gpt-4o", 1, 1, 1.0)
