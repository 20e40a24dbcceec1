"""Background jobs: the outbox commits with the submission, a real procrastinate worker
(PostgreSQL) and the in-process runner (SQLite) run the same handlers, failures are
retried with backoff and then parked, and an admin puts a parked job back."""

from __future__ import annotations

import io
import random
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from core import jobs
from core.auth import system_actor
from core.db import session_scope, utcnow
from core.errors import Forbidden, Invalid
from core.jobs import handlers, local
from core.models import (
    AuditLog,
    LearningFeedback,
    LearningJob,
    LearningSubmission,
    LearningTelemetry,
    Student,
    ValidatorRun,
)
from core.submissions import submit
from core.validation import recalc, templates
from tests.support import staff_actor, unavailable


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the offline rubric provider writes the feedback
    monkeypatch.delenv("GPTZERO_API_KEY", raising=False)
    monkeypatch.delenv("NGI_JOB_BACKOFF_SECONDS", raising=False)
    monkeypatch.delenv("NGI_JOB_ATTEMPTS", raising=False)


@pytest.fixture
def env(seeded_engine, data_env):
    with session_scope(seeded_engine) as s:
        s.add(Student(id=1, email="ana@school.edu", full_name="Ana Lima", cohort="2025A"))
    return seeded_engine


def _model(flaw=None) -> bytes:
    return templates.build_model("a2_wc_debt", company_ticker="TSLA", rng=random.Random(1), flaw=flaw)


def _submit(engine, data: bytes, **kw):
    if "actor" not in kw:
        kw["actor"] = system_actor(engine)
    return submit(engine, student_id=1, activity_id="a2_wc_debt", company_ticker="TSLA",
                  fileobj=io.BytesIO(data), filename="model.xlsx", **kw)


def _jobs(engine) -> list[LearningJob]:
    with session_scope(engine) as s:
        return list(s.scalars(select(LearningJob).order_by(LearningJob.id)))


def _queue_entries(engine) -> list[dict]:
    """procrastinate's own rows (PostgreSQL only): what a worker would fetch."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(
            "SELECT status::text AS status, args, scheduled_at FROM procrastinate_jobs ORDER BY id"))]


def _feedback_count(engine, submission_id) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(LearningFeedback)
                        .where(LearningFeedback.submission_id == submission_id))


def _failing(monkeypatch, task="feedback", calls=None):
    def handler(engine, *, submission_id):
        if calls is not None:
            calls.append(submission_id)
        raise RuntimeError("provider down: HTTP 503")

    monkeypatch.setitem(handlers.HANDLERS, task, handler)


def test_a_committed_submission_has_exactly_one_job_and_no_feedback_yet(env):
    result = _submit(env, _model())
    assert result.status == "passed"
    queued = _jobs(env)
    assert [(j.task, j.status, j.submission_id, j.attempts) for j in queued] == [
        ("feedback", "queued", result.submission_id, 0)]
    assert _feedback_count(env, result.submission_id) == 0  # the upload did not wait for feedback
    if env.dialect.name == "postgresql":
        entries = _queue_entries(env)
        assert [(e["status"], e["args"]) for e in entries] == [("todo", {"job_id": queued[0].id})]


def test_a_rolled_back_submission_leaves_no_job(env, data_env, monkeypatch):
    import core.submissions

    admin = staff_actor(env, "admin")

    def broken_audit(*args, **kwargs):  # runs after the enqueue, inside the same transaction
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(core.submissions.audit, "record", broken_audit)
    with pytest.raises(RuntimeError, match="audit table unavailable"):
        _submit(env, _model(), actor=admin)
    with session_scope(env) as s:
        assert s.scalar(select(func.count()).select_from(LearningSubmission)) == 0
    assert _jobs(env) == [] and _queue_entries(env) == []
    stored = data_env / "files"
    assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]


def test_the_worker_generates_the_feedback(env):
    """PostgreSQL: a real procrastinate worker, run until its queue is empty. SQLite: the
    in-process runner's loop. Same handler, same result."""
    passed = _submit(env, _model())
    failed = _submit(env, _model(flaw="unbalanced"))
    assert failed.status == "failed"
    assert jobs.drain(env) == 1
    assert _feedback_count(env, passed.submission_id) == 1
    assert _feedback_count(env, failed.submission_id) == 0
    assert [j.status for j in _jobs(env)] == ["done"]
    with session_scope(env) as s:
        assert s.get(LearningSubmission, passed.submission_id).feedback_status == "generated"
    assert _queue_entries(env) == []  # procrastinate deletes what succeeded; our table keeps the history
    assert jobs.drain(env) == 0  # nothing runs twice


def test_a_failed_job_waits_for_its_backoff(env, monkeypatch):
    calls = []
    _failing(monkeypatch, calls=calls)
    result = _submit(env, _model())
    before = utcnow()
    jobs.drain(env)
    [job] = _jobs(env)
    assert (job.status, job.attempts) == ("failed", 1)
    assert "provider down: HTTP 503" in job.last_error
    assert job.run_after >= before + timedelta(seconds=30)
    if env.dialect.name == "postgresql":  # procrastinate holds it back just as long
        [entry] = _queue_entries(env)
        assert entry["status"] == "todo" and entry["scheduled_at"] >= before + timedelta(seconds=30)
    jobs.drain(env)
    assert calls == [result.submission_id]  # not due yet: not run again
    assert [jobs.backoff(n) for n in (1, 2, 3)] == [30, 120, 480]


def test_a_job_that_keeps_failing_is_parked_and_an_admin_retries_it(env, monkeypatch):
    monkeypatch.setenv("NGI_JOB_BACKOFF_SECONDS", "0")
    calls = []
    _failing(monkeypatch, calls=calls)
    result = _submit(env, _model())
    jobs.drain(env)
    [job] = _jobs(env)
    assert (job.status, job.attempts) == ("parked", 4) and len(calls) == 4
    if env.dialect.name == "postgresql":
        assert [e["status"] for e in _queue_entries(env)] == ["failed"]

    instructor, admin = staff_actor(env, "instructor"), staff_actor(env, "admin")
    with session_scope(env) as s:
        listed = jobs.parked(s, actor=instructor)
    assert listed[["task", "activity", "attempts"]].values.tolist() == [["Feedback generation", "a2_wc_debt", 4]]
    assert "provider down" in listed.loc[0, "last_error"]
    assert listed.loc[0, "student"] and "Lima" not in listed.loc[0, "student"]  # a label, never the name
    with pytest.raises(Forbidden):
        jobs.retry(env, actor=instructor, job_id=job.id)

    monkeypatch.setitem(handlers.HANDLERS, "feedback", handlers.generate_feedback)  # the provider is back
    jobs.retry(env, actor=admin, job_id=job.id)
    with pytest.raises(Invalid, match="not parked"):
        jobs.retry(env, actor=admin, job_id=job.id)
    jobs.drain(env)
    assert [(j.status, j.attempts, j.last_error) for j in _jobs(env)] == [("done", 1, None)]
    assert _feedback_count(env, result.submission_id) == 1
    with session_scope(env) as s:
        assert s.scalar(select(AuditLog.action).where(AuditLog.target_type == "job")) == "job.retry"
        assert jobs.parked(s, actor=admin).empty


def test_a_pdf_memo_gets_ai_detection_from_a_job(env):
    pdf = templates.build_memo_pdf(templates.memo_paragraphs("Tesla"))
    result = submit(env, actor=system_actor(env), student_id=1, activity_id="capstone", company_ticker="TSLA",
                    fileobj=io.BytesIO(pdf), filename="memo.pdf")
    assert result.ai_detection_status == "pending"
    assert {j.task for j in _jobs(env)} == {"ai_detection", "feedback"}
    jobs.drain(env)
    with session_scope(env) as s:
        row = s.get(LearningSubmission, result.submission_id)
        assert row.ai_detection_status == "not_run" and "GPTZERO_API_KEY" in row.ai_detection_details["reason"]
    assert {j.status for j in _jobs(env)} == {"done"}


def _stripped(flaw=None) -> bytes:
    return templates.strip_cached_values(_model(flaw))


def test_a_workbook_without_saved_values_is_pending_until_libreoffice_has_run(env):
    if recalc.soffice_path() is None:
        unavailable("LibreOffice (soffice) is not installed")
    result = _submit(env, _stripped())
    assert result.status == "pending" and "LibreOffice is recalculating" in result.report["message"]
    assert [j.task for j in _jobs(env)] == ["validate_workbook"]
    with session_scope(env) as s:
        events = s.scalars(select(LearningTelemetry.event_type)).all()
    assert "submission" in events and not {"validator_pass", "validator_fail"} & set(events)

    jobs.drain(env)  # recalculation passes, which enqueues the feedback, which runs in the same drain
    with session_scope(env) as s:
        row = s.get(LearningSubmission, result.submission_id)
        runs = s.scalars(select(ValidatorRun.status).where(ValidatorRun.submission_id == row.id)
                         .order_by(ValidatorRun.id)).all()
        events = s.scalars(select(LearningTelemetry.event_type)).all()
        assert row.validator_status == "passed" and runs == ["pending", "passed"]
        assert "validator_pass" in events
        report = s.scalar(select(ValidatorRun.report).where(ValidatorRun.submission_id == row.id)
                          .order_by(ValidatorRun.id.desc()).limit(1))
        assert "LibreOffice recalculated" in report["details"]["recalculated"]
    assert [(j.task, j.status) for j in _jobs(env)] == [("validate_workbook", "done"), ("feedback", "done")]
    assert _feedback_count(env, result.submission_id) == 1


def test_without_libreoffice_such_a_workbook_is_refused_at_upload(env, data_env, monkeypatch, tmp_path):
    monkeypatch.setenv("NGI_LIBREOFFICE", str(tmp_path / "no-such-soffice"))
    with pytest.raises(Invalid, match="have no saved values"):
        _submit(env, _stripped())
    assert _jobs(env) == []
    with session_scope(env) as s:
        assert s.scalar(select(func.count()).select_from(LearningSubmission)) == 0


def test_the_in_process_runner_works_off_the_queue_on_sqlite(sqlite_url, data_env, monkeypatch):
    from core import catalogue, companies
    from core.db import make_engine

    engine = make_engine(sqlite_url)
    with session_scope(engine) as s:
        companies.seed_curated(s)
        catalogue.seed_catalogue(s)
        s.add(Student(id=1, email="ana@school.edu"))
    monkeypatch.setenv("NGI_JOBS_IN_PROCESS", "1")
    thread = local.start(sqlite_url)
    try:
        assert thread is not None and local.start(sqlite_url) is thread  # one runner per process
        result = _submit(engine, _model())
        deadline = time.monotonic() + 120
        while _jobs(engine)[0].status != "done" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        local.stop(sqlite_url)
    assert _jobs(engine)[0].status == "done"
    assert _feedback_count(engine, result.submission_id) == 1
    engine.dispose()


def test_the_runner_is_off_unless_the_database_is_the_embedded_default(monkeypatch):
    monkeypatch.delenv("NGI_JOBS_IN_PROCESS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert local.enabled("sqlite:///data/ngi.db")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://x@db/ngi")
    assert not local.enabled("postgresql+psycopg://x@db/ngi")  # there, `ngi worker` runs them
    monkeypatch.setenv("NGI_JOBS_IN_PROCESS", "1")
    assert local.enabled("postgresql+psycopg://x@db/ngi")


def test_ngi_worker_drain_runs_what_submissions_add_queued(env, db_url, monkeypatch, tmp_path, capsys):
    from core.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    path = tmp_path / "model.xlsx"
    path.write_bytes(_model())
    assert main(["submissions", "add", "--student", "1", "--activity", "a2_wc_debt", "--company", "TSLA",
                 "--file", str(path)]) == 0
    [job] = _jobs(env)
    assert job.status == "queued"
    assert main(["worker", "--drain"]) == 0
    assert "ran 1 job(s)" in capsys.readouterr().out
    assert _feedback_count(env, job.submission_id) == 1


def test_a_running_ngi_worker_picks_up_a_new_upload(env, db_url, data_env, tmp_path):
    """The real `ngi worker` process, started before the upload: on PostgreSQL a
    procrastinate worker woken by the commit's NOTIFY, on SQLite the poll loop."""
    import os
    import signal
    import subprocess
    import sys

    from tests.support import APP

    env_vars = {**os.environ, "DATABASE_URL": db_url, "PYTHONPATH": str(APP.parent), "NGI_DATA_DIR": str(data_env)}
    env_vars.pop("NGI_STORAGE_URL", None)
    worker = subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], env=env_vars, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        result = _submit(env, _model())
        deadline = time.monotonic() + 120
        # Until the job is settled, not just its feedback row: the worker marks the job
        # done in a second step, and stopping it in between would read "running".
        while [j.status for j in _jobs(env)] != ["done"] and worker.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=60)[0].decode(errors="replace")
    assert _feedback_count(env, result.submission_id) == 1, output
    assert [j.status for j in _jobs(env)] == ["done"]
