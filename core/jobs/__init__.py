"""Background work after an upload: LibreOffice recalculation, AI-detection, feedback.

The outbox is `learning_jobs`: `enqueue` writes a row in the caller's transaction (the
submission's), so a committed submission always has its jobs and a rolled-back one
never does. On PostgreSQL the same transaction also defers a procrastinate job that
carries the row's id (core.jobs.pg); procrastinate's workers (`ngi worker`) wake on its
NOTIFY and call `run`. On SQLite an in-process poller (core.jobs.local) calls the same
`run` on due rows. Either way `run` is the one place a job changes state:

    queued → running → done
                     → failed (run_after = now + backoff) → running … → parked

A parked job waits for an admin on the moderation page (`parked`, `retry`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import pandas as pd
from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session

from core import audit, config
from core.access import Actor, require
from core.db import get_or_not_found, session_scope, utcnow
from core.errors import Invalid
from core.models import LearningJob, LearningSubmission

log = logging.getLogger(__name__)

# Task names stored in learning_jobs.task, and what the moderation page calls them.
VALIDATE = "validate_workbook"
AI_DETECTION = "ai_detection"
FEEDBACK = "feedback"
TASK_LABELS = {VALIDATE: "LibreOffice recalculation and validation", AI_DETECTION: "AI-detection",
               FEEDBACK: "Feedback generation"}
# A job left `running` this long was on a worker that died; it may be claimed again.
STALE_AFTER = timedelta(minutes=15)
ERROR_CHARS = 2000


class JobFailed(Exception):
    """Raised by a handler for an outcome worth another try (provider down, timeout)."""


@dataclass(frozen=True)
class RunResult:
    job_id: int
    status: str  # done | failed | parked | skipped
    retry_in: float | None = None
    error: str | None = None


def max_attempts() -> int:
    return max(1, int(config.env("NGI_JOB_ATTEMPTS") or 4))


def backoff(attempts: int) -> float:
    """Seconds before try `attempts + 1`: the base, then four times longer each time."""
    base = float(config.env("NGI_JOB_BACKOFF_SECONDS") or 30)
    return base * 4 ** max(0, attempts - 1)


def enqueue(session: Session, task: str, *, submission_id: int | None = None, payload: dict | None = None,
            now: datetime | None = None) -> LearningJob:
    """Add a job in the caller's transaction; it exists exactly when that transaction commits."""
    if task not in TASK_LABELS:
        raise Invalid(f"Unknown job task {task!r}.")
    now = now or utcnow()
    job = LearningJob(task=task, submission_id=submission_id, payload={"submission_id": submission_id, **(payload or {})},
                      status="queued", attempts=0, run_after=now, created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        from core.jobs import pg

        pg.defer(session, job.id)
    return job


def follow_ups(report_status: str, *, has_text: bool) -> list[str]:
    """The jobs an upload with this validator outcome leaves behind."""
    tasks = []
    if report_status == "pending":
        tasks.append(VALIDATE)
    if report_status == "passed" and config.env_flag("NGI_FEEDBACK_ON_SUBMIT"):
        tasks.append(FEEDBACK)
    if has_text:
        tasks.append(AI_DETECTION)
    return tasks


def _claimable(now: datetime):
    return or_(LearningJob.status.in_(("queued", "failed")),
               (LearningJob.status == "running") & (LearningJob.updated_at < now - STALE_AFTER))


def _claim(engine: Engine, job_id: int) -> LearningJob | None:
    now = utcnow()
    with session_scope(engine, immediate=True) as session:
        # One conditional UPDATE: of two runners racing for a row, exactly one sees rowcount 1.
        result = cast(CursorResult, session.execute(
            update(LearningJob).where(LearningJob.id == job_id, _claimable(now))
            .values(status="running", attempts=LearningJob.attempts + 1, updated_at=now)))
        claimed = result.rowcount
        return session.get(LearningJob, job_id) if claimed else None


def run(engine: Engine, job_id: int) -> RunResult:
    """Claim and run one job, recording the outcome. Never raises for a handler's failure."""
    job = _claim(engine, job_id)
    if job is None:
        return RunResult(job_id, "skipped")
    from core.jobs import handlers

    try:
        handlers.HANDLERS[job.task](engine, **job.payload)
    except Exception as exc:  # every failure is recorded, then retried or parked
        if not isinstance(exc, JobFailed):
            log.exception("job %s (%s) crashed", job.id, job.task)
        return _fail(engine, job, f"{type(exc).__name__}: {exc}" if not isinstance(exc, JobFailed) else str(exc))
    with session_scope(engine, immediate=True) as session:
        session.execute(update(LearningJob).where(LearningJob.id == job.id)
                        .values(status="done", last_error=None, updated_at=utcnow()))
    return RunResult(job.id, "done")


def _fail(engine: Engine, job: LearningJob, error: str) -> RunResult:
    now = utcnow()
    parked = job.attempts >= max_attempts()
    delay = None if parked else backoff(job.attempts)
    with session_scope(engine, immediate=True) as session:
        session.execute(update(LearningJob).where(LearningJob.id == job.id).values(
            status="parked" if parked else "failed", last_error=error[:ERROR_CHARS], updated_at=now,
            run_after=now + timedelta(seconds=delay or 0)))
    log.warning("job %s (%s) attempt %s failed%s: %s", job.id, job.task, job.attempts,
                " and is parked" if parked else f"; next try in {delay:g} s", error)
    return RunResult(job.id, "parked" if parked else "failed", retry_in=delay, error=error)


def due(session: Session, *, now: datetime | None = None, limit: int = 20) -> list[int]:
    now = now or utcnow()
    return list(session.scalars(
        select(LearningJob.id).where(_claimable(now), LearningJob.run_after <= now)
        .order_by(LearningJob.run_after, LearningJob.id).limit(limit)))


def drain(engine: Engine) -> int:
    """Run every job that is due, and the jobs those create, then return how many ran.
    PostgreSQL: a procrastinate worker that stops when its queue is empty; SQLite: the
    in-process runner's loop. For the CLI (`ngi worker --drain`), the demo and tests."""
    if engine.dialect.name == "postgresql":
        from core.jobs import pg

        return pg.drain(engine)
    from core.jobs import local

    return local.drain(engine)


def parked(session: Session, *, actor: Actor) -> pd.DataFrame:
    """Jobs that used up their attempts, newest first, as the moderation page lists them."""
    from core.feedback.prompt import anonymous_label

    require(actor, "feedback.read")
    rows = session.execute(
        select(LearningJob, LearningSubmission).outerjoin(LearningSubmission, LearningSubmission.id == LearningJob.submission_id)
        .where(LearningJob.status == "parked").order_by(LearningJob.updated_at.desc(), LearningJob.id.desc())
    ).all()
    columns = ["job_id", "task", "student", "activity", "version", "attempts", "last_error", "parked_at"]
    return pd.DataFrame([{
        "job_id": job.id, "task": TASK_LABELS.get(job.task, job.task),
        "student": anonymous_label(sub) if sub is not None else None,
        "activity": sub.activity_id if sub is not None else None, "version": sub.version if sub is not None else None,
        "attempts": job.attempts, "last_error": job.last_error, "parked_at": job.updated_at,
    } for job, sub in rows], columns=columns)


def retry(engine: Engine, *, actor: Actor, job_id: int) -> None:
    """Put a parked job back in the queue with a fresh set of attempts."""
    require(actor, "feedback.moderate")
    now = utcnow()
    with session_scope(engine, immediate=True) as session:
        job = get_or_not_found(session, LearningJob, job_id, f"No job {job_id}; it may have been removed with its submission.")
        if job.status != "parked":
            raise Invalid(f"{TASK_LABELS.get(job.task, job.task)} job {job_id} is {job.status}, not parked.")
        job.status, job.attempts, job.run_after, job.updated_at = "queued", 0, now, now
        session.flush()
        if session.get_bind().dialect.name == "postgresql":
            from core.jobs import pg

            pg.defer(session, job.id)
        audit.record(session, actor, "job.retry", target_type="job", target_id=job.id,
                     details={"task": job.task, "submission_id": job.submission_id, "last_error": job.last_error})
