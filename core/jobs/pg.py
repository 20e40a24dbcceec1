"""The PostgreSQL runner: procrastinate (3.x) carries learning_jobs ids to its workers.

Why procrastinate: its queue is plain PostgreSQL (tables, plpgsql functions, LISTEN/
NOTIFY), so a job can be deferred by a SQL function call inside our own SQLAlchemy
transaction, which is what makes the outbox atomic with no relay process; it has sync
task support, retry strategies and a `wait=False` worker for draining in tests.

`defer` calls `procrastinate_defer_jobs_v1` in the caller's transaction: the job
appears (and its NOTIFY fires) only if the submission commits. The task body is
`core.jobs.run`; procrastinate's retry decision follows ours (`RetryLater`), so the
backoff and the parking rule live in one place for both engines.
"""

from __future__ import annotations

import json
from datetime import timedelta

import procrastinate
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.db import utcnow

QUEUE = "ngi_learning"
TASK_NAME = "ngi.run_learning_job"
LAPSE_TASK = "ngi.lapse_streaks"
# Hourly, so it lands within the hour after midnight in any program timezone; the
# UPDATE is idempotent, so only the first run of a program-timezone day changes rows.
LAPSE_CRON = "5 * * * *"

# procrastinate's own defer function (sql/schema.sql of 3.x); the composite row is its
# procrastinate_job_to_defer_v1: queue, task, priority, lock, queueing_lock, args, scheduled_at.
_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, CAST(:args AS jsonb), NULL)"
    "::procrastinate_job_to_defer_v1])"
).bindparams(bindparam("queue"), bindparam("task"), bindparam("args"))


class RetryLater(Exception):
    def __init__(self, seconds: float, error: str | None):
        super().__init__(error or "retry")
        self.seconds = seconds


class Parked(Exception):
    """Raised so procrastinate records the job as failed once ours is parked."""


class _FollowOurDecision(BaseRetryStrategy):
    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_at=utcnow() + timedelta(seconds=exception.seconds))
        return None


def defer(session: Session, job_id: int) -> None:
    session.execute(_DEFER, {"queue": QUEUE, "task": TASK_NAME, "args": json.dumps({"job_id": job_id})})


def conninfo(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(engine: Engine) -> procrastinate.App:
    """A procrastinate App bound to the engine's database, with our one task registered."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(engine)))

    @app.task(name=TASK_NAME, queue=QUEUE, retry=_FollowOurDecision())
    def run_learning_job(job_id: int) -> None:
        from core import jobs

        result = jobs.run(engine, job_id)
        if result.status == "failed":
            raise RetryLater(result.retry_in or 0, result.error)
        if result.status == "parked":
            raise Parked(result.error)

    @app.periodic(cron=LAPSE_CRON)
    @app.task(name=LAPSE_TASK, queue=QUEUE, queueing_lock=LAPSE_TASK)
    def lapse_streaks(timestamp: int) -> None:
        from core import progress

        progress.lapse_streaks(engine)

    return app


def work(engine: Engine, *, concurrency: int = 1, wait: bool = True) -> None:
    """Run a procrastinate worker on our queue; with `wait=False` it stops once the queue is empty."""
    app = make_app(engine)
    app.run_worker(queues=[QUEUE], concurrency=concurrency, wait=wait, install_signal_handlers=wait,
                   listen_notify=wait, delete_jobs="successful")


def drain(engine: Engine) -> int:
    from sqlalchemy import func, select

    from core.db import session_scope
    from core.models import LearningJob

    def finished() -> int:
        with session_scope(engine) as session:
            return session.scalar(select(func.count()).select_from(LearningJob).where(
                LearningJob.status.in_(("done", "parked")))) or 0

    before = finished()
    work(engine, wait=False)
    return finished() - before
