"""Grading against the activity's rubric, the marking workflow and marker allocation.

A submission's grade moves not_started → in_progress → graded → released. Scores are
per rubric criterion (the activity's rules, core.content_tree.rubric: weight and points),
the overall score is their weighted mean on 0–100. Only released grades reach students (the
learning_released_grades view, migration 0012). When a grade exists it is the grade;
the AI feedback composite travels beside it for comparison, never in its place.
Every change writes an audit row in its own transaction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit, content_tree
from core.access import Actor, can_role, require
from core.db import get_or_not_found, session_scope, utcnow
from core.errors import Conflict, Invalid
from core.models import LearningFeedback, LearningGrade, LearningSubmission, StaffUser

NOT_STARTED, IN_PROGRESS, GRADED, RELEASED = "not_started", "in_progress", "graded", "released"
STATES = (NOT_STARTED, IN_PROGRESS, GRADED, RELEASED)
STATE_LABELS = {NOT_STARTED: "Not started", IN_PROGRESS: "In progress", GRADED: "Graded", RELEASED: "Released"}


def overall(scores: list[dict]) -> float | None:
    """Weighted mean of score/max on 0–100, over the criteria scored so far."""
    weighted = [(s["score"] / s["max"] * 100, s["weight"]) for s in scores if s.get("score") is not None]
    total = sum(w for _, w in weighted)
    if not weighted or total <= 0:
        return None
    return round(sum(v * w for v, w in weighted) / total, 2)


def _scored(session: Session, activity_id: str, scores: Mapping[str, float | None], *, complete: bool) -> list[dict]:
    """Scores checked against the rubric, with its weights and maxima copied in."""
    rubric = content_tree.rubric(session, activity_id)
    if not rubric:
        raise Invalid(f"Activity {activity_id} has no rubric to grade against.")
    known = {c["criterion"] for c in rubric}
    unknown = sorted(set(scores) - known)
    if unknown:
        raise Invalid(f"{', '.join(unknown)} is not a criterion of {activity_id}'s rubric.")
    result = []
    for c in rubric:
        value = scores.get(c["criterion"])
        if value is None:
            if complete:
                raise Invalid(f"Score {c['criterion']} before marking the grade as graded.")
        else:
            value = float(value)
            if not math.isfinite(value) or not c["min"] <= value <= c["max"]:
                raise Invalid(f"{c['criterion'].capitalize()} must be between {c['min']} and {c['max']} "
                              f"(got {value:g}).")
        result.append({"criterion": c["criterion"], "score": value, "weight": c["weight"], "max": c["max"]})
    return result


def _submission(session: Session, submission_id: int) -> LearningSubmission:
    return get_or_not_found(session, LearningSubmission, submission_id, f"No submission with id {submission_id}.")


def _grade_row(session: Session, sub: LearningSubmission) -> LearningGrade:
    grade = session.scalar(select(LearningGrade).where(LearningGrade.submission_id == sub.id))
    if grade is None:
        grade = LearningGrade(submission_id=sub.id, user_id=sub.user_id, activity_id=sub.activity_id,
                              state=NOT_STARTED)
        session.add(grade)
    return grade


def _ai_composite(session: Session, submission_id: int) -> float | None:
    value = session.scalar(select(LearningFeedback.rubric_composite)
                           .where(LearningFeedback.submission_id == submission_id)
                           .order_by(LearningFeedback.id.desc()).limit(1))
    return None if value is None else float(value)


def _plain(grade: LearningGrade | None) -> dict[str, Any] | None:
    if grade is None:
        return None
    return {"id": grade.id, "submission_id": grade.submission_id, "state": grade.state,
            "criterion_scores": grade.criterion_scores or [],
            "overall_score": None if grade.overall_score is None else float(grade.overall_score),
            "comment": grade.comment, "allocated_to": grade.allocated_to, "graded_by": grade.graded_by,
            "graded_at": grade.graded_at, "released_by": grade.released_by, "released_at": grade.released_at}


def grade_sheet(session: Session, *, actor: Actor, submission_id: int) -> dict[str, Any]:
    """What the grading form shows: the rubric, the grade (if any) and the AI composite beside it."""
    require(actor, "grades.read")
    sub = _submission(session, submission_id)
    grade = session.scalar(select(LearningGrade).where(LearningGrade.submission_id == submission_id))
    return {"submission_id": sub.id, "activity_id": sub.activity_id,
            "rubric": content_tree.rubric(session, sub.activity_id),
            "grade": _plain(grade), "ai_composite": _ai_composite(session, sub.id)}


def save_grade(engine: Engine, *, actor: Actor, submission_id: int, scores: Mapping[str, float | None],
               comment: str | None = None, final: bool = True) -> dict[str, Any]:
    """Save the scores and comment: `final` marks the grade graded (every criterion
    scored), otherwise it stays in progress. A released grade is not changed here."""
    require(actor, "grades.grade")
    with session_scope(engine, immediate=True) as session:
        sub = _submission(session, submission_id)
        checked = _scored(session, sub.activity_id, scores, complete=final)
        grade = _grade_row(session, sub)
        if grade.state == RELEASED:
            raise Conflict("This grade has been released to the student; an admin must withdraw it to change it.")
        before = grade.state
        grade.criterion_scores = checked
        score = overall(checked)
        grade.overall_score = None if score is None else Decimal(str(score))
        grade.comment = (comment or "").strip() or None
        grade.state = GRADED if final else IN_PROGRESS
        grade.graded_by, grade.graded_at, grade.updated_at = actor.id, utcnow(), utcnow()
        session.flush()
        audit.record(session, actor, "grade.save", target_type="submission", target_id=sub.id,
                     details={"from": before, "to": grade.state, "overall": score})
        return _plain(grade)  # type: ignore[return-value]


def _release(session: Session, actor: Actor, grade: LearningGrade) -> None:
    grade.state, grade.released_by, grade.released_at, grade.updated_at = RELEASED, actor.id, utcnow(), utcnow()


def release(engine: Engine, *, actor: Actor, submission_id: int) -> dict[str, Any]:
    """Make one graded submission's grade visible to the student."""
    require(actor, "grades.release")
    with session_scope(engine, immediate=True) as session:
        grade = session.scalar(select(LearningGrade).where(LearningGrade.submission_id == submission_id))
        if grade is None or grade.state != GRADED:
            state = STATE_LABELS[grade.state].lower() if grade else "not started"
            raise Conflict(f"Only a graded submission can be released; this one is {state}.")
        _release(session, actor, grade)
        audit.record(session, actor, "grade.release", target_type="submission", target_id=submission_id,
                     details={"overall": float(grade.overall_score or 0)})
        return _plain(grade)  # type: ignore[return-value]


def withdraw(engine: Engine, *, actor: Actor, submission_id: int, reason: str) -> dict[str, Any]:
    """Take a released grade back to graded (hidden from the student again)."""
    require(actor, "grades.release")
    if not (reason or "").strip():
        raise Invalid("Give a reason for withdrawing a released grade.")
    with session_scope(engine, immediate=True) as session:
        grade = session.scalar(select(LearningGrade).where(LearningGrade.submission_id == submission_id))
        if grade is None or grade.state != RELEASED:
            raise Conflict("Only a released grade can be withdrawn.")
        grade.state, grade.released_by, grade.released_at, grade.updated_at = GRADED, None, None, utcnow()
        audit.record(session, actor, "grade.withdraw", target_type="submission", target_id=submission_id,
                     details={"reason": reason.strip()})
        return _plain(grade)  # type: ignore[return-value]


def release_activity(engine: Engine, *, actor: Actor, activity_id: str) -> int:
    """Release every graded (not yet released) grade of one activity; returns how many."""
    require(actor, "grades.release")
    with session_scope(engine, immediate=True) as session:
        grades = list(session.scalars(select(LearningGrade).where(
            LearningGrade.activity_id == activity_id, LearningGrade.state == GRADED).order_by(LearningGrade.id)))
        for grade in grades:
            _release(session, actor, grade)
            audit.record(session, actor, "grade.release", target_type="submission", target_id=grade.submission_id,
                         details={"bulk": activity_id})
        return len(grades)


def markers(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    """Active staff who may grade, by name."""
    require(actor, "grades.read")
    rows = session.execute(select(StaffUser.id, StaffUser.display_name, StaffUser.role)
                           .where(StaffUser.is_active.is_(True)).order_by(StaffUser.display_name))
    return [{"id": i, "name": n} for i, n, role in rows if can_role(role, "grades.grade")]


def allocate(engine: Engine, *, actor: Actor, submission_ids: Iterable[int], marker_id: int | None) -> int:
    """Allocate submissions to a marker (None: unallocate); returns how many changed."""
    require(actor, "grades.allocate")
    ids = sorted(set(submission_ids))
    with session_scope(engine, immediate=True) as session:
        if marker_id is not None:
            marker = session.get(StaffUser, marker_id)
            if marker is None or not marker.is_active or not can_role(marker.role, "grades.grade"):
                raise Invalid("Allocate to an active instructor or admin.")
        changed = 0
        for sub_id in ids:
            grade = _grade_row(session, _submission(session, sub_id))
            if grade.allocated_to != marker_id:
                grade.allocated_to, grade.updated_at = marker_id, utcnow()
                changed += 1
                audit.record(session, actor, "grade.allocate", target_type="submission", target_id=sub_id,
                             details={"marker_id": marker_id})
        return changed


def states(session: Session, *, actor: Actor, submission_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Grade state, overall score and marker of each submission (missing: not started)."""
    require(actor, "grades.read")
    ids = list(submission_ids)
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        for row in session.execute(select(LearningGrade.submission_id, LearningGrade.state,
                                          LearningGrade.overall_score, LearningGrade.allocated_to)
                                   .where(LearningGrade.submission_id.in_(ids[start:start + 500]))):
            found[row.submission_id] = {"state": row.state, "allocated_to": row.allocated_to,
                                        "overall": None if row.overall_score is None else float(row.overall_score)}
    return found


def allocated_ids(session: Session, *, actor: Actor, marker_id: int) -> set[int]:
    """Submissions allocated to this marker ("my queue")."""
    require(actor, "grades.read")
    return set(session.scalars(select(LearningGrade.submission_id).where(LearningGrade.allocated_to == marker_id)))


def agreement(session: Session, *, actor: Actor, activity_id: str | None = None, top: int = 10) -> dict[str, Any]:
    """AI composite against the instructor's overall score, where both exist: mean
    difference (AI − instructor), Pearson correlation and the largest disagreements."""
    require(actor, "grades.read")
    latest_feedback = (select(LearningFeedback.submission_id, func.max(LearningFeedback.id).label("fid"))
                       .where(LearningFeedback.rubric_composite.is_not(None))
                       .group_by(LearningFeedback.submission_id).subquery())
    query = (select(LearningGrade.submission_id, LearningGrade.activity_id, LearningGrade.overall_score,
                    LearningFeedback.rubric_composite)
             .join(latest_feedback, latest_feedback.c.submission_id == LearningGrade.submission_id)
             .join(LearningFeedback, LearningFeedback.id == latest_feedback.c.fid)
             .where(LearningGrade.state.in_((GRADED, RELEASED)), LearningGrade.overall_score.is_not(None)))
    if activity_id:
        query = query.where(LearningGrade.activity_id == activity_id)
    pairs: list[dict[str, Any]] = [
        {"submission_id": s, "activity_id": a, "instructor": float(g), "ai": float(c),
         "difference": round(float(c) - float(g), 2)}
        for s, a, g, c in session.execute(query) if g is not None and c is not None]  # both filtered non-null above
    n = len(pairs)
    mean = round(sum(p["difference"] for p in pairs) / n, 2) if n else None
    return {"n": n, "mean_difference": mean, "correlation": _pearson([p["ai"] for p in pairs],
                                                                     [p["instructor"] for p in pairs]),
            "largest": sorted(pairs, key=lambda p: -abs(p["difference"]))[:top]}


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(sxx * syy), 3)
