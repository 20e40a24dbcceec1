"""The moderation page's "Background jobs" tab: parked jobs with their last error, and an
admin's retry that puts one back in the queue (instructors see the list, no button)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import jobs
from core.db import session_scope, utcnow
from core.models import LearningJob
from tests.feedback_fixtures import add_submission, passing_report
from tests.support import app_test


@pytest.fixture
def parked_job(seeded_engine, data_env):
    sub = add_submission(seeded_engine, report=passing_report())
    with session_scope(seeded_engine) as s:
        job = jobs.enqueue(s, jobs.FEEDBACK, submission_id=sub)
        job.status, job.attempts, job.updated_at = "parked", 4, utcnow() - timedelta(minutes=5)
        job.last_error = "Feedback: The openai provider timed out after 60 s."
        return job.id


def _jobs_tab(at):
    return next(t for t in at.tabs if t.label.startswith("Background jobs"))


def test_admin_sees_a_parked_job_and_puts_it_back_in_the_queue(db_url, seeded_engine, parked_job, monkeypatch):
    at = app_test(db_url, monkeypatch, role="admin", page="moderation").run()
    assert not at.exception
    tab = _jobs_tab(at)
    assert tab.label == "Background jobs (1 parked)"
    table = tab.dataframe[0].value
    assert table[["task", "activity", "attempts"]].values.tolist() == [
        ["Feedback generation", "Three-statement forecast with working capital and debt", 4]]
    assert table.loc[0, "last_error"] == "Feedback: The openai provider timed out after 60 s."

    at.button(key="mod_jobs_retry").click().run()
    assert not at.exception
    assert any("back in the queue" in s.value for s in at.success)
    assert _jobs_tab(at).label == "Background jobs (0 parked)"
    with session_scope(seeded_engine) as s:
        job = s.get(LearningJob, parked_job)
        assert (job.status, job.attempts) == ("queued", 0)


def test_instructor_sees_parked_jobs_without_a_retry_button(db_url, seeded_engine, parked_job, monkeypatch):
    at = app_test(db_url, monkeypatch, role="instructor", page="moderation").run()
    assert not at.exception
    assert not _jobs_tab(at).dataframe[0].value.empty
    assert "mod_jobs_retry" not in {b.key for b in at.button}
    with session_scope(seeded_engine) as s:
        assert s.scalar(select(LearningJob.status)) == "parked"
