"""A moderator edits every part of a feedback; the automatic checks run again on the
edited text (both engines)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.errors import Forbidden, Invalid
from core.feedback.editing import edit_feedback
from core.models import AuditLog, LearningFeedback, ValidatorRun
from tests.support import staff_actor
from tests.test_grading import add_submission

LONG = ("Your forecast is built from the package and the drivers are explained next to the inputs. "
        "The working-capital days follow the history and the debt schedule feeds interest and cash. "
        "Label the forecast years and keep the units consistent across the three statements.")
SCORES = {"accuracy": 70, "documentation": 60, "presentation": 65, "reasoning": 75}


@pytest.fixture
def env(seeded_engine):
    with session_scope(seeded_engine) as s:
        sub_id = add_submission(s, 1)
        s.add(ValidatorRun(submission_id=sub_id, status="failed", report={"status": "failed", "checks": [
            {"id": "bs_balances", "status": "failed", "findings": []}]}))
        fb = LearningFeedback(submission_id=sub_id, user_id=1, feedback_type="rubric", feedback_text=LONG,
                              strengths=["Clear drivers"], areas_for_improvement=["Units"],
                              specific_suggestions=["Label years"], release_state="released",
                              **{f"rubric_{k}": Decimal(v) for k, v in SCORES.items()})
        s.add(fb)
        s.flush()
        fid = fb.id
    return seeded_engine, fid


def test_every_part_is_edited_and_clean_text_stays_released(env):
    eng, fid = env
    result = edit_feedback(eng, actor=staff_actor(eng, "admin"), feedback_id=fid, text=LONG + " Well done.",
                           strengths=["Clear drivers", "Sourced assumptions"], improvements=["Units in $m"],
                           suggestions=[], scores={**SCORES, "accuracy": 80})
    assert result == {"flags": [], "held": False}
    with session_scope(eng) as s:
        fb = s.get(LearningFeedback, fid)
        assert fb.strengths == ["Clear drivers", "Sourced assumptions"] and fb.areas_for_improvement == ["Units in $m"]
        assert float(fb.rubric_accuracy) == 80 and fb.original_text == LONG and fb.release_state == "released"
        assert "strengths" in s.scalar(select(AuditLog.details).where(AuditLog.action == "feedback.edit"))["parts"]


def test_an_edited_strength_that_contradicts_the_validators_is_held(env):
    eng, fid = env
    result = edit_feedback(eng, actor=staff_actor(eng, "admin"), feedback_id=fid, text=LONG,
                           strengths=["The balance sheet balances in every year"], improvements=["Units"],
                           suggestions=["Label years"], scores=SCORES)
    assert result["held"] and [f["code"] for f in result["flags"]] == ["contradicts_validators"]
    with session_scope(eng) as s:
        assert s.get(LearningFeedback, fid).release_state == "held"


def test_scores_out_of_range_and_instructors_are_refused(env):
    eng, fid = env
    with pytest.raises(Invalid, match="accuracy score must be between 0 and 100"):
        edit_feedback(eng, actor=staff_actor(eng, "admin"), feedback_id=fid, text=LONG, strengths=[],
                      improvements=[], suggestions=[], scores={**SCORES, "accuracy": 120})
    with pytest.raises(Forbidden):
        edit_feedback(eng, actor=staff_actor(eng, "instructor"), feedback_id=fid, text=LONG, strengths=[],
                      improvements=[], suggestions=[], scores=SCORES)
