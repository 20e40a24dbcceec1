"""Many staff at once, on SQLite and PostgreSQL: sign-ins, lockouts and uploads raced
on real threads (the `race` fixture) must all end the way one at a time would."""

from __future__ import annotations

import io
import random

import pytest
from sqlalchemy import func, select

from core import auth, jobs
from core.db import session_scope
from core.errors import Forbidden
from core.models import LearningSubmission, LearningTelemetry, StaffUser, Student
from core.submissions import submit
from core.validation import templates

PASSWORD = "correct horse battery"
N = 20


@pytest.fixture
def staff(engine):
    auth.create_staff(engine, actor=auth.system_actor(engine), email="ian@example.org", role="instructor",
                      password=PASSWORD)
    return "ian@example.org"


def test_twenty_concurrent_sign_ins_with_the_right_password_all_succeed(engine, staff, race):
    results, errors = race(N, lambda _i: auth.sign_in(engine, email=staff, password=PASSWORD))
    assert errors == []
    assert len(results) == N and {a.email for a in results} == {staff}


def test_twenty_concurrent_wrong_passwords_lock_the_account(engine, staff, race):
    _results, errors = race(N, lambda _i: auth.sign_in(engine, email=staff, password="wrong password!!"))
    assert len(errors) == N and all(isinstance(e, Forbidden) for e in errors), errors[:3]
    with session_scope(engine) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == staff))
        count, locked_until = user.failed_login_count, user.locked_until
    assert count == N or count >= auth.MAX_FAILURES
    assert locked_until is not None
    with pytest.raises(Forbidden):  # locked: even the right password is refused now
        auth.sign_in(engine, email=staff, password=PASSWORD)


@pytest.fixture
def upload_env(seeded_engine, data_env, monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "1")
    monkeypatch.delenv("GPTZERO_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with session_scope(seeded_engine) as s:
        s.add(Student(id=1, email="ana@school.edu", full_name="Ana Lima", cohort="2025A"))
    return seeded_engine


def feedback_outcomes(engine, submission_ids) -> dict[int, str]:
    """Each submission's feedback outcome as a user would see it once the background
    queue has run: 'issued' (a feedback_issued event exists), 'retry' (listed for a
    retry), or what is missing."""
    jobs.drain(engine)
    with session_scope(engine) as session:
        return _outcomes(session, submission_ids)


def _outcomes(session, submission_ids) -> dict[int, str]:
    issued = set(session.scalars(select(LearningTelemetry.submission_id).where(
        LearningTelemetry.event_type == "feedback_issued", LearningTelemetry.submission_id.in_(submission_ids))))
    outcomes = {}
    for sub in session.scalars(select(LearningSubmission).where(LearningSubmission.id.in_(submission_ids))):
        if sub.id in issued:
            outcomes[sub.id] = "issued"
        elif sub.feedback_status == "retry":
            outcomes[sub.id] = "retry"
        else:
            outcomes[sub.id] = f"lost (feedback_status={sub.feedback_status})"
    return outcomes


def test_twenty_concurrent_uploads_get_versions_files_and_feedback(upload_env, data_env, race):
    engine = upload_env
    data = templates.build_model("a1_drivers_map", company_ticker="TSLA", rng=random.Random(1))
    uploader = auth.system_actor(engine)

    def upload(_i):
        return submit(engine, actor=uploader, student_id=1, activity_id="a1_drivers_map", company_ticker="TSLA",
                      fileobj=io.BytesIO(data), filename="model.xlsx")

    results, errors = race(N, upload)
    assert errors == []
    assert sorted(r.version for r in results) == list(range(1, N + 1))
    with session_scope(engine) as s:
        latest = s.scalars(select(LearningSubmission.version).where(LearningSubmission.is_latest.is_(True))).all()
        stored = s.scalar(select(func.count(func.distinct(LearningSubmission.file_path))))
    outcomes = feedback_outcomes(engine, [r.submission_id for r in results])
    assert latest == [N]
    assert stored == N and len([p for p in (data_env / "files").rglob("*") if p.is_file()]) == N
    assert all(v in ("issued", "retry") for v in outcomes.values()), outcomes
