"""Grading in core: rubric scores, the marking workflow, release, allocation, agreement
with the AI composite, the student-facing view and erasure (both engines)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from core import grading, students
from core.db import session_scope
from core.errors import Conflict, Forbidden, Invalid
from core.models import (
    AuditLog,
    LearningCompany,
    LearningFeedback,
    LearningGrade,
    LearningSubmission,
    Student,
)
from tests.support import staff_actor

FULL = {"accuracy": 80, "documentation": 60, "presentation": 70, "reasoning": 90}


def add_submission(session, student_id: int, activity: str = "a2_wc_debt", *, composite: float | None = None) -> int:
    if session.get(Student, student_id) is None:
        session.add(Student(id=student_id, email=f"s{student_id}@school.edu", full_name=f"Student {student_id}"))
        session.flush()
    company = session.scalar(select(LearningCompany.id).where(LearningCompany.ticker == "TSLA"))
    sub = LearningSubmission(user_id=student_id, company_id=company, activity_id=activity, module="accounting_i",
                             submission_type="excel", version=1, file_path=f"k/{student_id}/{activity}.xlsx",
                             file_name="model.xlsx", validator_status="passed", validator_errors=[])
    session.add(sub)
    session.flush()
    if composite is not None:
        session.add(LearningFeedback(submission_id=sub.id, user_id=student_id, feedback_type="ai",
                                     feedback_text="Good work.", rubric_composite=Decimal(str(composite))))
    return sub.id


@pytest.fixture
def env(seeded_engine):
    with session_scope(seeded_engine) as s:
        ids = [add_submission(s, 1, composite=90), add_submission(s, 2, composite=50), add_submission(s, 3)]
    return seeded_engine, ids


def test_grade_is_scored_against_the_rubric_with_its_weights(env):
    eng, (sub, *_) = env
    instructor = staff_actor(eng, "instructor")
    saved = grading.save_grade(eng, actor=instructor, submission_id=sub, scores=FULL, comment="Tidy model.")
    # a2_wc_debt weights: accuracy .45, documentation .2, presentation .1, reasoning .25
    assert saved["state"] == "graded" and saved["overall_score"] == pytest.approx(77.5)
    assert {c["criterion"]: c["weight"] for c in saved["criterion_scores"]}["accuracy"] == 0.45
    with session_scope(eng) as s:
        sheet = grading.grade_sheet(s, actor=instructor, submission_id=sub)
        assert sheet["grade"]["comment"] == "Tidy model." and sheet["ai_composite"] == 90.0
        assert [c["criterion"] for c in sheet["rubric"]] == ["accuracy", "documentation", "presentation", "reasoning"]
        assert s.scalar(select(AuditLog.details).where(AuditLog.action == "grade.save"))["to"] == "graded"


def test_scores_outside_the_scale_or_missing_are_refused_with_the_criterion(env):
    eng, (sub, *_) = env
    instructor = staff_actor(eng, "instructor")
    with pytest.raises(Invalid, match="Accuracy must be between 0 and 100"):
        grading.save_grade(eng, actor=instructor, submission_id=sub, scores={**FULL, "accuracy": 101})
    with pytest.raises(Invalid, match="Score reasoning"):
        grading.save_grade(eng, actor=instructor, submission_id=sub, scores={"accuracy": 50, "documentation": 50,
                                                                           "presentation": 50})
    with pytest.raises(Invalid, match="style is not a criterion"):
        grading.save_grade(eng, actor=instructor, submission_id=sub, scores={**FULL, "style": 3})
    draft = grading.save_grade(eng, actor=instructor, submission_id=sub, scores={"accuracy": 50}, final=False)
    assert draft["state"] == "in_progress" and draft["overall_score"] == 50.0


def test_workflow_release_only_after_graded_and_only_released_reach_students(env):
    eng, (a, b, c) = env
    instructor, admin = staff_actor(eng, "instructor"), staff_actor(eng, "admin")
    with pytest.raises(Forbidden):
        grading.release(eng, actor=instructor, submission_id=a)
    with pytest.raises(Conflict, match="not started"):
        grading.release(eng, actor=admin, submission_id=a)
    grading.save_grade(eng, actor=instructor, submission_id=a, scores=FULL)
    grading.save_grade(eng, actor=instructor, submission_id=b, scores=FULL)
    grading.save_grade(eng, actor=instructor, submission_id=c, scores={"accuracy": 10}, final=False)
    with session_scope(eng) as s:
        assert s.execute(text("SELECT count(*) FROM learning_released_grades")).scalar() == 0
    assert grading.release_activity(eng, actor=admin, activity_id="a2_wc_debt") == 2
    with session_scope(eng) as s:
        visible = s.execute(text("SELECT submission_id FROM learning_released_grades ORDER BY 1")).scalars().all()
        assert visible == [a, b]  # the in-progress draft stays hidden
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "grade.release")) == 2
    with pytest.raises(Conflict, match="released"):
        grading.save_grade(eng, actor=instructor, submission_id=a, scores=FULL)
    grading.withdraw(eng, actor=admin, submission_id=a, reason="Wrong rubric applied")
    with session_scope(eng) as s:
        assert s.execute(text("SELECT count(*) FROM learning_released_grades")).scalar() == 1


def test_allocation_builds_my_queue_and_refuses_program_leads(env):
    eng, (a, b, c) = env
    admin, instructor, lead = staff_actor(eng, "admin"), staff_actor(eng, "instructor"), staff_actor(eng, "program_lead")
    assert grading.allocate(eng, actor=admin, submission_ids=[a, c], marker_id=instructor.id) == 2
    with pytest.raises(Invalid, match="active instructor or admin"):
        grading.allocate(eng, actor=admin, submission_ids=[b], marker_id=lead.id)
    with pytest.raises(Forbidden):
        grading.allocate(eng, actor=instructor, submission_ids=[b], marker_id=instructor.id)
    with session_scope(eng) as s:
        assert grading.allocated_ids(s, actor=instructor, marker_id=instructor.id) == {a, c}
        assert grading.states(s, actor=instructor, submission_ids=[a, b])[a]["state"] == "not_started"
        assert instructor.id in [m["id"] for m in grading.markers(s, actor=admin)]
        assert lead.id not in [m["id"] for m in grading.markers(s, actor=admin)]


def test_agreement_compares_ai_composites_with_instructor_grades(env):
    eng, (a, b, _c) = env
    instructor = staff_actor(eng, "instructor")
    grading.save_grade(eng, actor=instructor, submission_id=a, scores=FULL)  # 77.5 vs AI 90
    grading.save_grade(eng, actor=instructor, submission_id=b, scores={k: 20 for k in FULL})  # 20 vs AI 50
    with session_scope(eng) as s:
        result = grading.agreement(s, actor=instructor)
    assert result["n"] == 2 and result["mean_difference"] == pytest.approx((12.5 + 30) / 2)
    assert result["correlation"] == pytest.approx(1.0)
    assert [p["submission_id"] for p in result["largest"]] == [b, a]


def test_grades_go_with_the_student_on_erasure(env):
    eng, (a, *_) = env
    grading.save_grade(eng, actor=staff_actor(eng, "instructor"), submission_id=a, scores=FULL)
    admin = staff_actor(eng, "admin")
    assert students.erase(eng, actor=admin, student_id=1).rows["learning_grades"] == 1
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(LearningGrade)) == 0
