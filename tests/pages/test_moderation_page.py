"""The moderation page through AppTest: a one-screen workstation. The queue is a
selectable table (opening on "held"), the item sits beside it with Previous/Next, each
admin action changes the row, writes an audit row and confirms with a toast while the view
stays on the item or moves to the next one; instructors and program leads get a read-only
page and core refuses them."""

from __future__ import annotations

import json

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


def _toasts(at):
    return [t.value for t in at.toast]


def _queue(at):
    return next(d for d in at.dataframe if d.key == "mod_queue")


def test_admin_sees_item_beside_report_and_prompt(db_url, seeded_engine, feedback_id, monkeypatch):
    at = _open(db_url, monkeypatch, "admin")
    assert not at.exception
    assert at.session_state["mod_current"] == feedback_id
    assert "off by 1,204 at Balance Sheet!E4" in at.text_area(key=f"mod_text_{feedback_id}").value  # editable text
    page = "\n".join(m.value for m in at.markdown)
    assert "**Balance sheet balances** — Warning" in page       # the validator report beside it
    assert any(c.value.startswith("Review the submission of Analyst ") for c in at.code)  # the prompt
    assert {"mod_flag", "mod_hold", "mod_save", "mod_regenerate"} <= _keys(at)


def test_flag_then_unflag(db_url, seeded_engine, feedback_id, monkeypatch):
    at = _open(db_url, monkeypatch, "admin")
    at.text_input(key=f"mod_reason_{feedback_id}").input("Too harsh for a first model")
    at.button(key="mod_flag").click().run()
    assert not at.exception and any(t.endswith("feedback flagged.") for t in _toasts(at))
    assert at.session_state["mod_current"] == feedback_id  # the view stays on the item
    row = _row(seeded_engine, feedback_id)
    assert row.is_flagged and row.flag_reason == "Too harsh for a first model" and row.flagged_by is not None
    assert [a.target_id for a in _audits(seeded_engine, "feedback.flag")] == [str(feedback_id)]

    at.text_input(key=f"mod_reason_{feedback_id}").input("Fair on reflection")
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
    at.text_input(key=f"mod_reason_{feedback_id}").input("Wait for the instructor")
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
    assert at.session_state["mod_current"] == feedback_id
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
    assert at.selectbox(key="mod_state").value == "held" and at.session_state["mod_current"] == feedback_id
    at.text_area(key=f"mod_strengths_{feedback_id}").input("The balance sheet balances in every year")
    at.number_input(key=f"mod_score_accuracy_{feedback_id}").set_value(55.0)
    at.button(key="mod_save").click().run()
    assert not at.exception, at.exception
    row = _row(seeded_engine, feedback_id)
    assert row.strengths == ["The balance sheet balances in every year"] and float(row.rubric_accuracy) == 55
    assert any("contradicts" in c["code"] for c in row.auto_flags) and row.release_state == "held"
    assert any("edited and held" in t for t in _toasts(at))


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


@pytest.fixture
def two_held(seeded_engine, data_env, monkeypatch):
    """Two held feedback items (newest first in the queue) and a released one."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    made = []
    for student, persona in ((11, "project_lead"), (12, "credit_analyst"), (13, "project_lead")):
        sub = add_submission(seeded_engine, student_id=student, email=f"s{student}@example.edu")
        made.append(generate(seeded_engine, actor=system_actor(seeded_engine), submission_id=sub,
                             persona=persona).feedback_id)
    with session_scope(seeded_engine) as session:
        for fid, state in zip(made, ("held", "held", "released"), strict=True):
            session.get(LearningFeedback, fid).release_state = state
    return made  # queue order, newest first: released (not shown on "held"), then made[1], made[0]


def test_opens_on_held_as_a_table_in_peoples_language(db_url, seeded_engine, two_held, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="mod_state").value == "held"
    table = _queue(at)
    assert len(table.value) == 2 and at.session_state["mod_current"] == two_held[1]
    labels = {name: (c or {}).get("label") for name, c in json.loads(table.proto.columns).items()}
    shown = [labels.get(c) or c for c in table.proto.column_order]
    assert shown[:4] == ["Open", "Student", "Composite", "Flagged"] and "Created" in shown
    assert not {"id", "submission_id", "persona", "regenerated_from_id"} & set(shown)
    assert list(table.value["open"]) == ["▶", ""]  # the open item is marked in the table
    assert "**1 of 2** in this view" in [m.value for m in at.markdown]


def test_clicking_a_row_opens_it_and_the_choice_survives_reruns(db_url, seeded_engine, two_held, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    at.session_state["mod_queue"] = {"selection": {"rows": [1], "columns": []}}
    at.run()
    assert at.session_state["mod_current"] == two_held[0]
    assert list(_queue(at).value["open"]) == ["", "▶"]
    at.text_input(key=f"mod_reason_{two_held[0]}").input("Check the tone")
    at.button(key="mod_flag").click().run()
    assert at.session_state["mod_current"] == two_held[0] and _row(seeded_engine, two_held[0]).is_flagged
    at.button(key="mod_prev").click().run()  # navigation wins over the old click
    assert at.session_state["mod_current"] == two_held[1]
    at.run()
    assert at.session_state["mod_current"] == two_held[1]


def test_release_confirms_and_moves_to_the_next_held_item(db_url, seeded_engine, two_held, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    at.button(key="mod_release").click().run()
    assert not at.exception, at.exception
    assert _row(seeded_engine, two_held[1]).release_state == "released"
    assert any("released to the student" in t for t in _toasts(at))
    assert at.session_state["mod_current"] == two_held[0] and len(_queue(at).value) == 1


def test_pickers_and_reason_reset_for_each_item(db_url, seeded_engine, two_held, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    first, second = two_held[1], two_held[0]
    at.selectbox(key=f"mod_regen_persona_{first}").select("portfolio_manager")
    at.text_input(key=f"mod_reason_{first}").input("half-typed")
    at.button(key="mod_next").click().run()
    assert at.session_state["mod_current"] == second
    assert at.selectbox(key=f"mod_regen_persona_{second}").value == "project_lead"  # this item's own persona
    assert at.text_input(key=f"mod_reason_{second}").value == ""
