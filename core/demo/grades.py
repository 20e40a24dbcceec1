"""Demo grades: the demo cohort's latest validated submissions in every state of the
marking workflow (not started and allocated, in progress, graded, released), so a new
user sees the workflow. Scores sit near the AI composite with some disagreement, so the
moderation page's agreement tab has something to show. Called once from the demo seed."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from core import content_tree, grading
from core.db import session_scope
from core.models import (
    AuditLog,
    LearningFeedback,
    LearningGrade,
    LearningSubmission,
    StaffUser,
)
from core.rules import ActivityRules


def seed_grades(engine: Engine, *, seed: int) -> int:
    """Insert demo grades; returns how many rows. Deterministic for a seed."""
    rng = random.Random(seed * 7919 + 13)
    with session_scope(engine) as session:
        staff = {u.role: u for u in session.scalars(select(StaffUser).where(StaffUser.is_demo.is_(True)))}
        instructor, admin = staff.get("instructor"), staff.get("admin")
        if instructor is None or admin is None:
            return 0
        composite = dict(session.execute(select(LearningFeedback.submission_id, func.max(LearningFeedback.rubric_composite))
                                         .group_by(LearningFeedback.submission_id)).all())
        subs = session.execute(select(LearningSubmission.id, LearningSubmission.user_id, LearningSubmission.activity_id,
                                      LearningSubmission.created_at)
                               .where(LearningSubmission.is_latest.is_(True),
                                      LearningSubmission.validator_status.in_(("passed", "failed")))
                               .order_by(LearningSubmission.id)).all()
        rows, audits = [], []
        tree = content_tree.current(session)
        rubrics = {key: (tree.rules(key) or ActivityRules()).rubric() for key in tree.activity_keys()}
        for sub_id, user_id, activity_id, created in subs:
            roll = rng.random()
            state = (grading.RELEASED if roll < 0.2 else grading.GRADED if roll < 0.35
                     else grading.IN_PROGRESS if roll < 0.45 else grading.NOT_STARTED if roll < 0.75 else None)
            if state is None:
                continue  # left without a grade row: not started, nobody allocated
            if created is None:
                continue  # no upload time to date a grade from (created_at is server-set: never in practice)
            marker = instructor if rng.random() < 0.7 else admin
            row = dict(submission_id=sub_id, user_id=user_id, activity_id=activity_id, state=state,
                       allocated_to=marker.id, created_at=created)
            if state != grading.NOT_STARTED:
                centre = float(composite.get(sub_id) or rng.uniform(55, 85))
                scores: list[dict[str, Any]] = []
                for c in rubrics.get(activity_id, []):
                    if state == grading.IN_PROGRESS and scores and rng.random() < 0.5:
                        break
                    value = max(0.0, min(c["max"], round(centre + rng.gauss(-3, 9))))
                    scores.append({"criterion": c["criterion"], "score": value, "weight": c["weight"], "max": c["max"]})
                graded_at = created + timedelta(minutes=rng.randint(30, 600))  # never after "today"
                overall = grading.overall(scores)
                row.update(criterion_scores=scores, overall_score=Decimal(str(overall)), graded_by=marker.id,
                           graded_at=graded_at,
                           comment="Clear drivers; tie the forecast to the history." if state != grading.IN_PROGRESS
                           else None)
                audits.append(dict(actor_id=marker.id, actor_email=marker.email, action="grade.save",
                                   target_type="submission", target_id=str(sub_id), created_at=graded_at,
                                   details={"to": state if state != grading.RELEASED else grading.GRADED,
                                            "overall": overall}))
                if state == grading.RELEASED:
                    row.update(released_by=admin.id, released_at=graded_at + timedelta(hours=6))
                    audits.append(dict(actor_id=admin.id, actor_email=admin.email, action="grade.release",
                                       target_type="submission", target_id=str(sub_id),
                                       created_at=graded_at + timedelta(hours=6), details={"overall": overall}))
            rows.append(row)
        if rows:
            # Rows of one insert must share their keys: fill the columns a state leaves empty.
            keys = set().union(*rows)
            session.execute(insert(LearningGrade), [{k: r.get(k) for k in keys} for r in rows])
        if audits:
            session.execute(insert(AuditLog), audits)
        return len(rows)
