"""Students as this product sees them, and GDPR erasure."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.models import (
    FeedbackFailure,
    LearningFeedback,
    LearningLeaderboard,
    LearningProgress,
    LearningSubmission,
    LearningTelemetry,
    Student,
    ValidatorRun,
)

# Tables whose rows belong to one student, directly or through a submission. Counted
# before the delete so the caller can say what went.
_OWNED = [
    ("learning_progress", LearningProgress, LearningProgress.user_id),
    ("learning_telemetry", LearningTelemetry, LearningTelemetry.user_id),
    ("learning_feedback", LearningFeedback, LearningFeedback.user_id),
    ("learning_leaderboard", LearningLeaderboard, LearningLeaderboard.user_id),
    ("learning_submissions", LearningSubmission, LearningSubmission.user_id),
]


def erase(session: Session, student_id: int) -> dict[str, int]:
    """Delete a student and everything of theirs; return rows removed per table.

    The database's ON DELETE CASCADE does the work; counting first makes the erasure
    reportable. Stored files are the caller's to remove (their keys are returned by
    `file_keys`), since storage is not transactional.
    """
    student = session.get(Student, student_id)
    if student is None:
        raise NotFound(f"No student with id {student_id}.")
    submission_ids = select(LearningSubmission.id).where(LearningSubmission.user_id == student_id)
    counts = {"students": 1}
    for name, model, column in _OWNED:
        counts[name] = session.scalar(select(func.count()).select_from(model).where(column == student_id)) or 0
    counts["learning_validator_runs"] = session.scalar(
        select(func.count()).select_from(ValidatorRun).where(ValidatorRun.submission_id.in_(submission_ids))
    ) or 0
    counts["learning_feedback_failures"] = session.scalar(
        select(func.count()).select_from(FeedbackFailure).where(FeedbackFailure.submission_id.in_(submission_ids))
    ) or 0
    session.execute(delete(Student).where(Student.id == student_id))
    session.expunge_all()
    return counts


def file_keys(session: Session, student_id: int) -> list[str]:
    return list(session.scalars(select(LearningSubmission.file_path).where(LearningSubmission.user_id == student_id)))
