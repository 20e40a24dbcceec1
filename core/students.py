"""Students as this product sees them, and GDPR erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core import erasures
from core.db import Base
from core.errors import NotFound
from core.models import FeedbackFailure, LearningSubmission, Student, ValidatorRun


def _owned_tables() -> list[tuple[str, Any]]:
    """Every table with a `user_id` that references students: the rows erasure removes."""
    owned = []
    for table in Base.metadata.sorted_tables:
        column = table.columns.get("user_id")
        if column is not None and any(fk.column.table.name == "students" for fk in column.foreign_keys):
            owned.append((table.name, column))
    return owned


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
    for name, column in _owned_tables():
        counts[name] = session.scalar(select(func.count()).select_from(column.table).where(column == student_id)) or 0
    # Reached only through the student's submissions.
    for model in (ValidatorRun, FeedbackFailure):
        counts[model.__tablename__] = session.scalar(
            select(func.count()).select_from(model).where(model.submission_id.in_(submission_ids))
        ) or 0
    erasures.record(session, student_id)  # the ledger a restore replays (core/erasures.py)
    session.execute(delete(Student).where(Student.id == student_id))
    session.expunge_all()
    return counts


def file_keys(session: Session, student_id: int) -> list[str]:
    return list(session.scalars(select(LearningSubmission.file_path).where(LearningSubmission.user_id == student_id)))
