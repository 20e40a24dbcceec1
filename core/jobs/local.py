"""The in-process runner for the embedded SQLite default: a daemon thread in the app's
process polls learning_jobs and runs due jobs through `core.jobs.run`, whose claim is
a conditional UPDATE inside BEGIN IMMEDIATE, so two processes never run one job.

Started once per process and database (`start`), from the Streamlit app's cached
resource (core/ui.py); `ngi worker` on SQLite runs the same loop in the foreground.
"""

from __future__ import annotations

import logging
import threading
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from core import config
from core.db import make_engine, session_scope

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
# A drain stops after this many runs even if jobs keep coming (a job that re-enqueues
# itself must not hold the CLI forever).
MAX_RUNS = 10_000

_started: dict[str, tuple[threading.Thread, threading.Event]] = {}
_lock = threading.Lock()


def drain(engine: Engine) -> int:
    """Run due jobs until none is due; returns how many were run."""
    from core import jobs

    ran = 0
    while ran < MAX_RUNS:
        with session_scope(engine) as session:
            ids = jobs.due(session)
        if not ids:
            break
        for job_id in ids:
            if jobs.run(engine, job_id).status != "skipped":
                ran += 1
    return ran


def _database_gone(engine: Engine) -> bool:
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return False
    return not Path(database).exists()


class Daily:
    """The runner's daily work (lapsed streaks): once per program-timezone day, at the
    first poll after local midnight, like the procrastinate periodic task on PostgreSQL."""

    def __init__(self) -> None:
        self.last_day: date | None = None

    def __call__(self, engine: Engine) -> bool:
        from core import progress

        day = progress.today()
        if day == self.last_day:
            return False
        progress.lapse_streaks(engine, on=day)
        self.last_day = day
        return True


def loop(engine: Engine, stop: threading.Event, *, interval: float = POLL_SECONDS) -> None:
    """Poll until `stop` is set (or the SQLite file is deleted, as after a test)."""
    daily = Daily()
    while not stop.is_set() and not _database_gone(engine):
        try:
            daily(engine)
            drain(engine)
        except Exception:  # a poll that fails (locked, unmigrated) is tried again
            log.exception("in-process job runner: poll failed")
        stop.wait(interval)


def enabled(url: str) -> bool:
    """NGI_JOBS_IN_PROCESS, else on for the embedded SQLite default (no DATABASE_URL)."""
    forced = config.env_flag("NGI_JOBS_IN_PROCESS")
    if forced is not None:
        return forced
    return config.uses_embedded_default() and url.startswith("sqlite")


def start(url: str) -> threading.Thread | None:
    """Start the runner thread for `url` once per process; None when disabled."""
    if not enabled(url):
        return None
    with _lock:
        running = _started.get(url)
        if running is not None and running[0].is_alive():
            return running[0]
        stop_event = threading.Event()
        thread = threading.Thread(target=loop, args=(make_engine(url), stop_event), name="ngi-jobs", daemon=True)
        thread.start()
        _started[url] = (thread, stop_event)
        return thread


def stop(url: str, *, timeout: float = 30) -> None:
    """Stop the runner for `url` after its current job (tests; the app's thread dies with it)."""
    with _lock:
        running = _started.pop(url, None)
    if running is not None:
        running[1].set()
        running[0].join(timeout)
