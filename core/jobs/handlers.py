"""The job handlers: the same functions whichever runner calls them.

Each takes the engine and a submission id, reads in a short session, does the slow
part (LibreOffice, GPTZero, the feedback provider) with no transaction open, and
writes in a second one. Each is safe to run twice: a job whose worker died after the
work but before `done` is claimed again, so a handler first checks whether its work
is already there. A submission erased meanwhile makes the job a no-op.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from core import ai_detection, config, jobs, validation
from core.auth import system_actor
from core.db import session_scope
from core.models import LearningFeedback, LearningSubmission
from core.storage import copy_to_tempfile, default_storage

log = logging.getLogger(__name__)


def _locked(session, submission_id: int) -> LearningSubmission | None:
    query = select(LearningSubmission).where(LearningSubmission.id == submission_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def validate_workbook(engine: Engine, *, submission_id: int) -> None:
    """Recalculate a pending workbook with LibreOffice, then run its checks."""
    from core import submissions

    with session_scope(engine) as session:
        submission = session.get(LearningSubmission, submission_id)
        if submission is None or submission.validator_status != "pending":
            return
        key, name = submission.file_path, submission.file_name
        rules = submissions.rubric(session, submission.activity_id)
    tmp = copy_to_tempfile(default_storage(), key, suffix=Path(key).suffix)
    try:
        # LibreOffice runs here, outside any transaction; a conversion that fails gives a
        # 'rejected' report naming the file, which the student sees like any other.
        report = validation.validate_path(tmp, name=name, rules=rules)
    finally:
        tmp.unlink(missing_ok=True)
    with session_scope(engine, immediate=True) as session:
        submission = _locked(session, submission_id)
        if submission is None or submission.validator_status != "pending":
            return
        submissions.record_run(session, submission, report, run_by=None)
        submissions.record_outcome(session, submission, report)
        if report.status == "passed" and config.env_flag("NGI_FEEDBACK_ON_SUBMIT"):
            jobs.enqueue(session, jobs.FEEDBACK, submission_id=submission_id)


def detect_ai(engine: Engine, *, submission_id: int) -> None:
    """AI-detection of a PDF memo's text (read again from storage, never kept in the job)."""
    with session_scope(engine) as session:
        submission = session.get(LearningSubmission, submission_id)
        if submission is None or submission.ai_detection_status not in (None, "pending", "not_run"):
            return
        key, name = submission.file_path, submission.file_name
    tmp = copy_to_tempfile(default_storage(), key, suffix=Path(key).suffix)
    try:
        text = validation.read_pdf(tmp, name=name)[1]
    finally:
        tmp.unlink(missing_ok=True)
    detection = ai_detection.detect_text(text)
    with session_scope(engine, immediate=True) as session:
        submission = session.get(LearningSubmission, submission_id)
        if submission is None:
            return
        ai_detection.apply(submission, detection)
    if detection.details.get("retryable"):
        raise jobs.JobFailed(f"AI-detection: {detection.details.get('reason')}")


def generate_feedback(engine: Engine, *, submission_id: int) -> None:
    """Feedback for a passed submission; a provider failure is retried with backoff."""
    from core.feedback import generate

    if not config.env_flag("NGI_FEEDBACK_ON_SUBMIT"):
        return
    with session_scope(engine) as session:
        submission = session.get(LearningSubmission, submission_id)
        if submission is None or submission.validator_status != "passed":
            return
        if session.scalar(select(LearningFeedback.id).where(LearningFeedback.submission_id == submission_id)
                          .limit(1)) is not None:
            return
    outcome = generate(engine, submission_id=submission_id, actor=system_actor(engine))
    if not outcome.ok:
        raise jobs.JobFailed(f"Feedback: {outcome.error}")


HANDLERS = {jobs.VALIDATE: validate_workbook, jobs.AI_DETECTION: detect_ai, jobs.FEEDBACK: generate_feedback}
