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


def _open(db_url, monkeypatch, role):
    """The page with the State filter on All (it opens on "held")."""
    at = app_test(db_url, monkeypatch, role=role, page="moderation")
    at.session_state["mod_state"] = "All"
    return at.run()


def _keys(at):
    return {b.key for b in at.button}


def test_admin_sees_item_beside_report_and_prompt(db_url, seeded_engine, feedback_id, monkeypatch):
    at = _open(db_url, monkeypatch, "admin")
    assert not at.exception
    assert at.selectbox(key="mod_item").value == feedback_id
    page = "\n".join(m.value for m in at.markdown)
    assert "off by 1,204 at Balance Sheet!E4" in page          # the feedback text
    assert "**bs_balances** — warning" in page                  # the validator report beside it
    assert any(c.value.startswith("Review the submission of Analyst ") for c in at.code)  # the prompt
    assert {"mod_flag", "mod_hold", "mod_save", "mod_regenerate"} <= _keys(at)


def test_flag_then_unflag(db_url, seeded_engine, feedback_id, monkeypatch):
    at = _open(db_url, monkeypatch, "admin")
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
    at = _open(db_url, monkeypatch, "admin")
    at.button(key="mod_flag").click().run()
    assert "Give a reason to flag this feedback." in [e.value for e in at.error]
    assert not _row(seeded_engine, feedback_id).is_flagged and _audits(seeded_engine, "feedback.flag") == []


def test_edit_keeps_the_original(db_url, seeded_engine, feedback_id, monkeypatch):
    original = _row(seeded_engine, feedback_id).feedback_text
    at = _open(db_url, monkeypatch, "admin")
    at.text_area(key=f"mod_text_{feedback_id}").input("A moderator's rewrite of this feedback.")
    at.button(key="mod_save").click().run()
    row = _row(seeded_engine, feedback_id)
    assert row.feedback_text == "A moderator's rewrite of this feedback." and row.original_text == original
    assert row.edited_by is not None and len(_audits(seeded_engine, "feedback.edit")) == 1


def test_hold_then_release(db_url, seeded_engine, feedback_id, monkeypatch):
    at = _open(db_url, monkeypatch, "admin")
    at.text_input(key="mod_reason").input("Wait for the instructor")
    at.button(key="mod_hold").click().run()
    assert _row(seeded_engine, feedback_id).release_state == "held"
    at.button(key="mod_release").click().run()
    row = _row(seeded_engine, feedback_id)
    assert row.release_state == "released" and row.released_by is not None
    assert len(_audits(seeded_engine, "feedback.hold")) == 1 and len(_audits(seeded_engine, "feedback.release")) == 1


def test_regenerate_with_another_persona_keeps_both(db_url, seeded_engine, feedback_id, monkeypatch):
    at = _open(db_url, monkeypatch, "admin")
    at.selectbox(key=f"mod_regen_persona_{feedback_id}").select("credit_analyst")
    at.button(key="mod_regenerate").click().run()
    assert not at.exception
    with session_scope(seeded_engine) as session:
        rows = session.scalars(select(LearningFeedback).order_by(LearningFeedback.id)).all()
    assert next(r.id for r in rows) == feedback_id and len(rows) == 2
    assert rows[1].regenerated_from_id == feedback_id and rows[1].persona == "credit_analyst"
    assert _audits(seeded_engine, "feedback.regenerate")[0].target_id == str(rows[1].id)


def test_cost_and_agreement_panels_render(db_url, seeded_engine, feedback_id, monkeypatch):
    at = _open(db_url, monkeypatch, "admin")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Budget left this month (of $500)" in labels and "Spent today" in labels and "Tokens in" in labels
    assert any("No OpenAI spend in the last 30 days." in i.value for i in at.info)


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_other_roles_get_a_read_only_page_and_core_refuses_them(db_url, seeded_engine, feedback_id, monkeypatch, role):
    at = _open(db_url, monkeypatch, role)
    assert not at.exception
    assert at.selectbox(key="mod_item").value == feedback_id
    assert not (_keys(at) & set(ACTION_KEYS))
    assert any("Read-only view" in c.value for c in at.caption)
    actor = staff_actor(seeded_engine, role)
    with pytest.raises(Forbidden):
        moderation.flag(seeded_engine, actor=actor, feedback_id=feedback_id, reason="trying anyway")
    assert not _row(seeded_engine, feedback_id).is_flagged and _audits(seeded_engine, "feedback.flag") == []


def test_opens_on_held_and_the_edit_covers_every_part_with_checks_rerun(db_url, seeded_engine, feedback_id,
                                                                         monkeypatch):
    with session_scope(seeded_engine) as session:
        session.get(LearningFeedback, feedback_id).release_state = "held"
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    assert at.selectbox(key="mod_state").value == "held" and at.selectbox(key="mod_item").value == feedback_id
    at.text_area(key=f"mod_strengths_{feedback_id}").input("The balance sheet balances in every year")
    at.number_input(key=f"mod_score_accuracy_{feedback_id}").set_value(55.0)
    at.button(key="mod_save").click().run()
    assert not at.exception, at.exception
    row = _row(seeded_engine, feedback_id)
    assert row.strengths == ["The balance sheet balances in every year"] and float(row.rubric_accuracy) == 55
    assert any("contradicts" in c["code"] for c in row.auto_flags) and row.release_state == "held"
    assert any("edited and held" in w.value for w in at.warning)


def test_regenerate_pickers_are_keyed_by_item(db_url, seeded_engine, feedback_id, monkeypatch):
    at = _open(db_url, monkeypatch, "admin")
    keys = {s.key for s in at.selectbox}
    assert f"mod_regen_persona_{feedback_id}" in keys and "mod_regen_persona" not in keys


def test_agreement_compares_the_ai_composite_with_instructor_grades(db_url, seeded_engine, feedback_id, monkeypatch):
    from core import grading

    submission_id = _row(seeded_engine, feedback_id).submission_id
    grading.save_grade(seeded_engine, actor=staff_actor(seeded_engine, "instructor"), submission_id=submission_id,
                       scores={"accuracy": 10, "documentation": 10, "presentation": 10, "reasoning": 10})
    at = _open(db_url, monkeypatch, "admin")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Graded submissions compared"] == "1"
    composite = float(_row(seeded_engine, feedback_id).rubric_composite)
    assert float(metrics["Mean difference (AI − instructor)"]) == pytest.approx(composite - 10, abs=0.05)
