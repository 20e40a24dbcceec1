"""submit(): versions, safe storage, validators, telemetry, progress, leaderboard —
on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import random
import re

import pytest
from sqlalchemy import func, insert, select

from core import jobs, leaderboard_entries, models
from core.auth import system_actor
from core.db import session_scope, utcnow
from core.errors import Forbidden, Invalid
from core.models import (
    LearningCompany,
    LearningJob,
    LearningLeaderboard,
    LearningProgress,
    LearningSubmission,
    LearningTelemetry,
    Student,
    ValidatorRun,
)
from core.storage import default_storage
from core.submissions import revalidate, submit
from core.validation import templates
from tests.support import staff_actor
from tests.test_validation_safety import BILLION_LAUGHS, _rewrite


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    monkeypatch.delenv("GPTZERO_API_KEY", raising=False)


@pytest.fixture
def env(seeded_engine, data_env):
    with session_scope(seeded_engine) as s:
        s.add_all([Student(id=1, email="ana@school.edu", full_name="Ana Lima", cohort="2025A"),
                   Student(id=2, email="bo@school.edu", full_name="Bo Chen", cohort="2025A")])
    return seeded_engine


def _model(activity="a2_wc_debt", flaw=None, seed=1, ticker="TSLA") -> bytes:
    return templates.build_model(activity, company_ticker=ticker, rng=random.Random(seed), flaw=flaw)


def _submit(engine, data: bytes, *, student=1, activity="a2_wc_debt", name="model.xlsx", **kw):
    if "actor" not in kw:
        kw["actor"] = system_actor(engine)
    return submit(engine, student_id=student, activity_id=activity, company_ticker="TSLA",
                  fileobj=io.BytesIO(data), filename=name, **kw)


def _stored_files(data_env):
    root = data_env / "files"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_submit_stores_versions_validates_and_records(env, data_env):
    first = _submit(env, _model(), notes="first try")
    second = _submit(env, _model(flaw="cash_mismatch"))
    assert (first.version, first.status) == (1, "passed")
    assert (second.version, second.status) == (2, "failed")
    assert re.fullmatch(r"submissions/1/a2_wc_debt/[0-9a-f]{32}\.xlsx", first.file_key)
    assert default_storage().read_bytes(first.file_key) == _model()
    with session_scope(env) as s:
        rows = s.scalars(select(LearningSubmission).order_by(LearningSubmission.version)).all()
        assert [(r.version, r.is_latest, r.validator_status) for r in rows] == [(1, False, "passed"),
                                                                              (2, True, "failed")]
        assert rows[0].file_name == "model.xlsx" and rows[0].submission_notes == "first try"
        assert len(rows[0].file_hash) == 64 and rows[0].module == "accounting_i"
        assert rows[1].validator_errors[0]["check"] == "cash_ties"
        assert s.scalar(select(func.count()).select_from(ValidatorRun)) == 2
        events = s.scalars(select(LearningTelemetry.event_type).order_by(LearningTelemetry.id)).all()
        assert events == ["submission", "validator_pass", "submission", "validator_fail"]
        progress = s.scalar(select(LearningProgress).where(LearningProgress.user_id == 1))
        assert progress.current_activity == "a2_wc_debt" and progress.current_module == "accounting_i"
        assert not progress.capstone_submitted


BAD_INPUTS = {
    "pdf_renamed": (lambda: templates.build_memo_pdf(["memo"]), "model.xlsx", "is a PDF"),
    "zip_bomb": (lambda: _rewrite(_model(), add={"xl/media/pad.bin": b"\0" * (20 * 1024 * 1024)}), "model.xlsx",
                 "zip bomb"),
    "billion_laughs": (lambda: _rewrite(_model(), replace={"xl/sharedStrings.xml": BILLION_LAUGHS}), "model.xlsx",
                       "entities"),
    "xlsm_renamed": (lambda: _rewrite(_model(), add={"xl/vbaProject.bin": b"vba"}), "model.xlsx", "macro"),
    "empty": (lambda: b"", "model.xlsx", "empty"),
    "path_traversal": (lambda: _model(), "../../etc/model.xlsx", "contains a path"),
    "wrong_type": (lambda: b"a,b\n1,2\n", "model.csv", "only Excel workbooks"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_rejected_and_nothing_is_stored(env, data_env, case):
    make, name, message = BAD_INPUTS[case]
    with pytest.raises(Invalid, match=message):
        _submit(env, make(), name=name)
    assert _stored_files(data_env) == []
    with session_scope(env) as s:
        assert s.scalar(select(func.count()).select_from(LearningSubmission)) == 0
        assert s.scalar(select(func.count()).select_from(LearningTelemetry)) == 0


def test_twenty_concurrent_submissions_get_versions_1_to_20(env, data_env, race):
    data = _model("a1_drivers_map")
    results, errors = race(20, lambda _i: _submit(env, data, activity="a1_drivers_map").version)
    assert errors == []
    assert sorted(results) == list(range(1, 21))
    with session_scope(env) as s:
        versions = s.scalars(select(LearningSubmission.version).where(LearningSubmission.user_id == 1)).all()
        latest = s.scalars(select(LearningSubmission.version).where(LearningSubmission.is_latest.is_(True))).all()
    assert sorted(versions) == list(range(1, 21))
    assert latest == [20]
    assert len(_stored_files(data_env)) == 20


def test_fault_after_storage_before_commit_leaves_no_file_and_no_row(env, data_env, monkeypatch):
    from core import telemetry

    def broken(*_a, **_k):
        raise RuntimeError("telemetry database went away")

    monkeypatch.setattr(telemetry, "record_event", broken)
    with pytest.raises(RuntimeError):
        _submit(env, _model())
    assert _stored_files(data_env) == []
    with session_scope(env) as s:
        assert s.scalar(select(func.count()).select_from(LearningSubmission)) == 0
        assert s.scalar(select(func.count()).select_from(ValidatorRun)) == 0


def test_capstone_upserts_the_leaderboard_and_progress(env):
    first = _submit(env, _model("capstone", seed=1), activity="capstone")
    with session_scope(env) as s:
        entry = s.scalar(select(LearningLeaderboard))
        anon, target = entry.anonymous_id, float(entry.final_price_target)
        progress = s.scalar(select(LearningProgress).where(LearningProgress.user_id == 1))
        assert progress.capstone_submitted and progress.capstone_submitted_at is not None
    assert re.fullmatch(r"Analyst_[0-9A-F]{6}", anon)
    assert target == pytest.approx(first.report["outputs"]["final_price_target"], abs=0.01)
    _submit(env, _model("capstone", seed=2), activity="capstone")
    with session_scope(env) as s:
        entries = s.scalars(select(LearningLeaderboard)).all()
    assert len(entries) == 1 and entries[0].anonymous_id == anon
    assert float(entries[0].final_price_target) != target


def test_capstone_memo_pdf_is_accepted_without_ai_detection_key(env):
    result = _submit(env, templates.build_memo_pdf(templates.memo_paragraphs("Tesla")),
                     activity="capstone", name="memo.pdf")
    # AI-detection is a background job: pending at upload, settled once the queue has run.
    assert result.status == "passed" and result.ai_detection_status == "pending"
    jobs.drain(env)
    with session_scope(env) as s:
        assert s.get(LearningSubmission, result.submission_id).ai_detection_status == "not_run"
        row = s.get(LearningSubmission, result.submission_id)
        assert row.submission_type == "pdf_memo" and row.ai_detection_details["reason"]


def test_a_failing_feedback_job_never_blocks_the_submission(env, monkeypatch):
    from core.jobs import handlers

    calls = []

    def hook(engine, *, submission_id):
        calls.append(submission_id)
        raise RuntimeError("provider down")

    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "1")
    monkeypatch.setitem(handlers.HANDLERS, "feedback", hook)
    result = _submit(env, _model())
    assert calls == []  # the upload only enqueues
    failing = _submit(env, _model(flaw="unbalanced"))
    jobs.drain(env)
    assert calls == [result.submission_id]  # only passed submissions get feedback
    assert failing.version == 2
    with session_scope(env) as s:
        job = s.scalar(select(LearningJob))
        assert (job.task, job.status, job.attempts) == ("feedback", "failed", 1)
        assert "provider down" in job.last_error


def test_anonymous_ids_stay_unique_at_two_thousand_students(env):
    n = 2000
    with session_scope(env) as s:
        s.execute(insert(Student), [{"id": 100 + i, "email": f"s{i}@x.edu"} for i in range(n)])
        company_id = s.scalar(select(LearningCompany.id).where(LearningCompany.ticker == "TSLA"))
        s.execute(insert(LearningSubmission), [
            {"user_id": 100 + i, "company_id": company_id, "activity_id": "capstone", "module": "finance_valuation",
             "submission_type": "excel", "version": 1, "file_path": f"k/{i}.xlsx", "file_name": "m.xlsx"}
            for i in range(n)])
        sub_ids = dict(s.execute(select(LearningSubmission.user_id, LearningSubmission.id)).all())
    # Every third draw repeats an id already handed out, forcing the retry path.
    issued: list[str] = []
    draws = iter(range(10 ** 9))

    def make_id():
        if issued and next(draws) % 3 == 0:
            return issued[-1]
        return leaderboard_entries.new_anonymous_id()

    with session_scope(env) as s:
        for i in range(n):
            entry = leaderboard_entries.upsert_entry(
                s, user_id=100 + i, company_id=company_id, submission_id=sub_ids[100 + i],
                targets={"final_price_target": 100 + i}, valuation_date=utcnow().date(), make_id=make_id)
            issued.append(entry.anonymous_id)
    with session_scope(env) as s:
        ids = s.scalars(select(LearningLeaderboard.anonymous_id)).all()
    assert len(ids) == n and len(set(ids)) == n
    assert all(re.fullmatch(r"Analyst_[0-9A-F]{6}", i) for i in ids)


def test_cli_submissions_add(env, data_env, db_url, tmp_path, monkeypatch, capsys):
    from core.cli import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    path = tmp_path / "drivers.xlsx"
    path.write_bytes(_model("a1_drivers_map"))
    code = main(["submissions", "add", "--student", "2", "--activity", "a1_drivers_map", "--company", "KO",
                 "--file", str(path), "--notes", "via CLI"])
    assert code == 0 and "version 1, validators passed" in capsys.readouterr().out
    bad = tmp_path / "fake.xlsx"
    bad.write_bytes(b"%PDF-1.4")
    assert main(["submissions", "add", "--student", "2", "--activity", "a1_drivers_map", "--company", "KO",
                 "--file", str(bad)]) == 1
    assert "is a PDF" in capsys.readouterr().err



def test_program_leads_may_neither_submit_nor_revalidate(env):
    lead, instructor = staff_actor(env, "program_lead"), staff_actor(env, "instructor")
    upload = dict(student_id=2, activity_id="a2_wc_debt", company_ticker="TSLA", filename="model.xlsx")
    with pytest.raises(Forbidden):
        submit(env, actor=lead, fileobj=io.BytesIO(_model()), **upload)
    result = submit(env, actor=instructor, fileobj=io.BytesIO(_model()), **upload)
    with pytest.raises(Forbidden):
        revalidate(env, actor=lead, submission_id=result.submission_id)
    assert revalidate(env, actor=instructor, submission_id=result.submission_id).status == result.status
    with session_scope(env) as s:
        assert s.scalar(select(func.count()).select_from(LearningSubmission).where(LearningSubmission.user_id == 2)) == 1
        runs = s.scalars(select(ValidatorRun.run_by).where(ValidatorRun.submission_id == result.submission_id)).all()
    assert runs == [instructor.id, instructor.id]


def _drop_connection_after_commit(engine, monkeypatch):
    """The server applies COMMIT, then the connection dies before the reply arrives."""
    dialect = engine.dialect
    real_commit = dialect.do_commit
    error = dialect.loaded_dbapi.OperationalError

    def commit_then_drop(dbapi_connection):
        real_commit(dbapi_connection)
        raise error("server closed the connection unexpectedly" if dialect.name == "postgresql"
                    else "disk I/O error")

    monkeypatch.setattr(dialect, "do_commit", commit_then_drop)
    return lambda: monkeypatch.setattr(dialect, "do_commit", real_commit)


def test_a_commit_whose_outcome_is_unknown_keeps_the_stored_file(env, data_env, monkeypatch):
    from core.db import CommitOutcomeUnknown

    uploader = system_actor(env)  # before the connection starts dropping
    restore = _drop_connection_after_commit(env, monkeypatch)
    with pytest.raises(CommitOutcomeUnknown) as err:
        _submit(env, _model(), actor=uploader)
    assert "may or may not have been saved" in err.value.message
    restore()
    with session_scope(env) as s:
        rows = s.scalars(select(LearningSubmission)).all()
    assert len(rows) == 1  # the commit did happen ...
    assert default_storage().exists(rows[0].file_path)  # ... and its file is still there
    assert len(_stored_files(data_env)) == 1


def test_a_commit_that_surely_failed_still_removes_the_stored_file(env, data_env, monkeypatch):
    dialect = env.dialect

    def refuse(_dbapi_connection):
        if dialect.name == "postgresql":
            from psycopg import errors as pg_errors

            raise pg_errors.SerializationFailure("could not serialize access")  # carries SQLSTATE 40001
        busy = dialect.loaded_dbapi.OperationalError("database is locked")
        busy.sqlite_errorcode = 5  # SQLITE_BUSY, as the driver sets it
        raise busy

    uploader = system_actor(env)
    monkeypatch.setattr(dialect, "do_commit", refuse)
    with pytest.raises(Exception):  # noqa: B017 - the engine's own error, whatever its class
        _submit(env, _model(), actor=uploader)
    assert _stored_files(data_env) == []


def test_a_blank_capstone_memo_is_refused_and_leaves_no_submission(env, data_env, monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "1")
    with pytest.raises(Invalid, match=re.escape("memo.pdf has no readable text")):
        _submit(env, templates.build_memo_pdf([], title=""), activity="capstone", name="memo.pdf")
    with session_scope(env) as s:
        assert s.scalar(select(func.count()).select_from(LearningSubmission)) == 0
    assert _stored_files(data_env) == []


def test_a_near_empty_capstone_memo_fails_its_checks_and_gets_no_automatic_feedback(env, monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "1")
    result = _submit(env, templates.build_memo_pdf(["I went through your model and it looks fine to me."]),
                     activity="capstone", name="memo.pdf")
    assert result.status == "failed"
    failed = {c["id"] for c in result.report["checks"] if c["status"] == "failed"}
    assert failed == {"pdf_word_count", "pdf_sections", "pdf_price_target"}
    jobs.drain(env)
    with session_scope(env) as s:
        assert s.scalar(select(func.count()).select_from(models.LearningFeedback)) == 0
        assert s.get(LearningSubmission, result.submission_id).validator_status == "failed"
