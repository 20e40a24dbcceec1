"""Students as this product sees them, and GDPR erasure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, cast, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core import audit, erasures
from core.access import Actor, require
from core.db import Base, session_scope
from core.errors import NotFound
from core.models import (
    AuditLog,
    FeedbackFailure,
    LearningFeedback,
    LearningLeaderboard,
    LearningSubmission,
    Student,
    ValidatorRun,
)

# What an audit row about an erased student keeps: who did what, when; never about whom.
TOMBSTONE = {"erased": True}


def _owned_tables() -> list[tuple[str, Any]]:
    """Every table with a `user_id` that references students: the rows erasure removes."""
    owned = []
    for table in Base.metadata.sorted_tables:
        column = table.columns.get("user_id")
        if column is not None and any(fk.column.table.name == "students" for fk in column.foreign_keys):
            owned.append((table.name, column))
    return owned


@dataclass(frozen=True)
class Erased:
    rows: dict[str, int]  # rows removed per table
    file_keys: list[str]  # the student's stored files: the caller deletes them once this has committed


def erase(engine: Engine, *, actor: Actor, student_id: int) -> Erased:
    """Delete a student and everything of theirs, in one audited unit of work.

    Stored files are the caller's to remove after the commit (storage is not
    transactional): a leftover file is harmless, a row pointing at a deleted file is not.
    """
    require(actor, "students.erase")
    with session_scope(engine, immediate=True) as session:
        keys = file_keys(session, student_id)
        counts = erase_rows(session, student_id)
        # No target id: the erased id must not survive in the trail either.
        audit.record(session, actor, "student.erase", target_type="student", details={"rows": counts})
    return Erased(rows=counts, file_keys=keys)


def erase_rows(session: Session, student_id: int) -> dict[str, int]:
    """The rows of one erasure, in the caller's transaction; rows removed per table.

    The database's ON DELETE CASCADE does the work; counting first makes the erasure
    reportable."""
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
    counts["audit_log (scrubbed)"] = _scrub_audit(session, student)
    erasures.record(session, student_id)  # the ledger a restore replays (core/erasures.py)
    session.execute(delete(Student).where(Student.id == student_id))
    session.expunge_all()
    return counts


def _scrub_audit(session: Session, student: Student) -> int:
    """Tombstone every audit row about the student, their submissions, feedback or
    leaderboard entries, and every row whose staff free text names them.

    Review notes, reveal reasons and uploaded file names live in `details`, so the whole
    payload goes; actor, action and time stay, so the trail still shows the action.
    """
    submissions = list(session.scalars(select(LearningSubmission.id).where(LearningSubmission.user_id == student.id)))
    feedback = session.scalars(select(LearningFeedback.id).where(
        or_(LearningFeedback.user_id == student.id, LearningFeedback.submission_id.in_(submissions))))
    entries = session.scalars(select(LearningLeaderboard.id).where(LearningLeaderboard.user_id == student.id))
    mine = {"student": [student.id], "submission": submissions, "feedback": list(feedback),
            "leaderboard": list(entries)}
    about = [and_(AuditLog.target_type == kind, AuditLog.target_id.in_([str(i) for i in ids]))
             for kind, ids in mine.items() if ids]
    text = func.lower(cast(AuditLog.details, Text))
    # Free text anywhere else (a leaderboard reveal reason, a note on another target).
    for needle in {(student.email or "").strip().lower(), (student.full_name or "").strip().lower()} - {""}:
        # SQLite's JSON keeps non-ASCII escaped (\u00e9); PostgreSQL's jsonb text does not.
        for form in {needle, json.dumps(needle)[1:-1]}:
            about.append(text.contains(form, autoescape=True))
    result = session.execute(
        update(AuditLog).where(or_(*about)).values(target_id=None, details=TOMBSTONE)
        .execution_options(synchronize_session=False))
    return getattr(result, "rowcount", 0) or 0


def forget_freed_pages(engine: Engine) -> bool:
    """After an erasure commits: on SQLite, move the WAL into the database file and
    truncate it, so the erased text survives in neither file.

    `secure_delete` (core.db) has already zeroed the freed cells; the WAL still holds
    older page images until a checkpoint. PostgreSQL needs nothing here. False when a
    reader kept the checkpoint from finishing (run it again once the app is idle).
    """
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return not busy


def file_keys(session: Session, student_id: int) -> list[str]:
    return list(session.scalars(select(LearningSubmission.file_path).where(LearningSubmission.user_id == student_id)))
