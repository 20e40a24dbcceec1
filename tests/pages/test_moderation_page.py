"""The moderation page through AppTest: each admin action changes the row and writes an
audit row; instructors and program leads get a read-only page and core refuses them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.auth import system_actor
from core.db import session_scope
from core.errors import Forbidden
from core.feedback import generate, moderation
from core.models import AuditLog, LearningFeedback
from tests.feedback_fixtures import add_submission, passing_report
from tests.support import app_test, staff_actor

ACTION_KEYS = ("mod_flag", "mod_unflag", "mod_hold", "mod_release", "mod_save", "mod_regenerate")


@pytest.fixture
def feedback_id(seeded_engine, data_env, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    sub = add_submission(seeded_engine, report=passing_report(warnings=[{"id": "bs_balances", "findings": [
        {"sheet": "Balance Sheet", "cell": "E4", "period": "FY2026E", "expected": 1464, "actual": 2668}]}]))
    return generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub).feedback_id


def _row(engine, fid):
    with session_scope(engine) as session:
        return session.get(LearningFeedback, fid)


def _audits(engine, action):
    with session_scope(engine) as session:
        return session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def _keys(at):
    return {b.key for b in at.button}


def test_admin_sees_item_beside_report_and_prompt(db_url, seeded_engine, feedback_id, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    assert not at.exception
    assert at.selectbox(key="mod_item").value == feedback_id
    page = "\n".join(m.value for m in at.markdown)
    assert "off by 1,204 at Balance Sheet!E4" in page          # the feedback text
    assert "**bs_balances** — warning" in page                  # the validator report beside it
    assert any(c.value.startswith("Review the submission of Analyst ") for c in at.code)  # the prompt
    assert {"mod_flag", "mod_hold", "mod_save", "mod_regenerate"} <= _keys(at)


def test_flag_then_unflag(db_url, seeded_engine, feedback_id, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    at.text_input(key="mod_reason").input("Too harsh for a first model")
    at.button(key="mod_flag").click().run()
    assert not at.exception and f"Feedback #{feedback_id} flagged." in [s.value for s in at.success]
    row = _row(seeded_engine, feedback_id)
    assert row.is_flagged and row.flag_reason == "Too harsh for a first model" and row.flagged_by is not None
    assert [a.target_id for a in _audits(seeded_engine, "feedback.flag")] == [str(feedback_id)]

    at.text_input(key="mod_reason").input("Fair on reflection")
    at.button(key="mod_unflag").click().run()
    assert not _row(seeded_engine, feedback_id).is_flagged
    assert _audits(seeded_engine, "feedback.unflag")[0].details["reason"] == "Fair on reflection"


def test_flag_without_reason_is_refused_with_a_message(db_url, seeded_engine, feedback_id, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    at.button(key="mod_flag").click().run()
    assert "Give a reason to flag this feedback." in [e.value for e in at.error]
    assert not _row(seeded_engine, feedback_id).is_flagged and _audits(seeded_engine, "feedback.flag") == []


def test_edit_keeps_the_original(db_url, seeded_engine, feedback_id, monkeypatch):
    original = _row(seeded_engine, feedback_id).feedback_text
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    at.text_area(key=f"mod_text_{feedback_id}").input("A moderator's rewrite of this feedback.")
    at.button(key="mod_save").click().run()
    row = _row(seeded_engine, feedback_id)
    assert row.feedback_text == "A moderator's rewrite of this feedback." and row.original_text == original
    assert row.edited_by is not None and len(_audits(seeded_engine, "feedback.edit")) == 1


def test_hold_then_release(db_url, seeded_engine, feedback_id, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    at.text_input(key="mod_reason").input("Wait for the instructor")
    at.button(key="mod_hold").click().run()
    assert _row(seeded_engine, feedback_id).release_state == "held"
    at.button(key="mod_release").click().run()
    row = _row(seeded_engine, feedback_id)
    assert row.release_state == "released" and row.released_by is not None
    assert len(_audits(seeded_engine, "feedback.hold")) == 1 and len(_audits(seeded_engine, "feedback.release")) == 1


def test_regenerate_with_another_persona_keeps_both(db_url, seeded_engine, feedback_id, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    at.selectbox(key="mod_regen_persona").select("credit_analyst")
    at.button(key="mod_regenerate").click().run()
    assert not at.exception
    with session_scope(seeded_engine) as session:
        rows = session.scalars(select(LearningFeedback).order_by(LearningFeedback.id)).all()
    assert next(r.id for r in rows) == feedback_id and len(rows) == 2
    assert rows[1].regenerated_from_id == feedback_id and rows[1].persona == "credit_analyst"
    assert _audits(seeded_engine, "feedback.regenerate")[0].target_id == str(rows[1].id)


def test_cost_and_agreement_panels_render(db_url, seeded_engine, feedback_id, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Budget left this month (of $500)" in labels and "Spent today" in labels and "Tokens in" in labels
    assert any("No OpenAI spend in the last 30 days." in i.value for i in at.info)


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_other_roles_get_a_read_only_page_and_core_refuses_them(db_url, seeded_engine, feedback_id, monkeypatch, role):
    at = app_test(db_url, monkeypatch, role=role, page="moderation").run()
    assert not at.exception
    assert at.selectbox(key="mod_item").value == feedback_id
    assert not (_keys(at) & set(ACTION_KEYS))
    assert any("Read-only view" in c.value for c in at.caption)
    actor = staff_actor(seeded_engine, role)
    with session_scope(seeded_engine) as session, pytest.raises(Forbidden):
        moderation.flag(session, actor=actor, feedback_id=feedback_id, reason="trying anyway")
    assert not _row(seeded_engine, feedback_id).is_flagged and _audits(seeded_engine, "feedback.flag") == []
