"""A student's data export: exactly their rows from every table, their files with
matching hashes, a README, admins only, and every export in the audit log."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date

import pytest
from sqlalchemy import select

from core.db import session_scope
from core.errors import Forbidden, NotFound
from core.models import (
    AuditLog,
    LearningCompany,
    LearningFeedback,
    LearningLeaderboard,
    LearningProgress,
    LearningSubmission,
    LearningTelemetry,
    Student,
    TelemetryDaily,
    ValidatorRun,
)
from core.storage import storage_for
from core.student_export import export_student, student_tables
from tests.support import staff_actor


def _student(session, storage, company, n: int) -> int:
    student = Student(email=f"export{n}@example.edu", full_name=f"Student {n}", cohort="2026A")
    session.add(student)
    session.flush()
    session.add(LearningProgress(user_id=student.id, selected_company_id=company.id))
    content = f"workbook of student {n} ".encode() * 50_000  # > 1 MB: streamed in chunks
    stored = storage.put(f"submissions/{student.id}/capstone/s{n}.xlsx", io.BytesIO(content))
    submission = LearningSubmission(
        user_id=student.id, company_id=company.id, activity_id="capstone", module="finance_valuation",
        submission_type="excel", version=1, file_path=stored.key, file_name=f"My model {n}.xlsx",
        file_hash=stored.sha256, file_size_bytes=stored.size, is_latest=True, validator_status="passed",
    )
    session.add(submission)
    session.flush()
    session.add(ValidatorRun(submission_id=submission.id, status="passed", report={"status": "passed"}))
    session.add(LearningFeedback(submission_id=submission.id, user_id=student.id, feedback_type="rubric",
                                 feedback_text=f"Good work, {n}.", rubric_composite=3.5))
    session.add(LearningLeaderboard(user_id=student.id, company_id=company.id, submission_id=submission.id,
                                    valuation_date=date(2026, 3, 1), anonymous_id=f"Analyst_{n}",
                                    final_price_target=123.45))
    for _ in range(n + 1):
        session.add(LearningTelemetry(user_id=student.id, event_type="lesson_view", company_id=company.id))
    session.add(TelemetryDaily(user_id=student.id, day=date(2026, 3, 1), week_start=date(2026, 2, 23),
                               month_start=date(2026, 3, 1), events=n + 1, lesson_views=n + 1))
    return student.id


@pytest.fixture
def two_students(engine, data_env):
    storage = storage_for(None)
    with session_scope(engine) as session:
        company = LearningCompany(ticker="KO", company_name="Coca-Cola")
        session.add(company)
        session.flush()
        return _student(session, storage, company, 1), _student(session, storage, company, 2), storage


def _tables(zf: zipfile.ZipFile) -> dict[str, list[dict]]:
    return {name.removeprefix("tables/").removesuffix(".json"): json.loads(zf.read(name))
            for name in zf.namelist() if name.startswith("tables/")}


def test_export_holds_exactly_the_students_rows_files_and_a_readme(engine, two_students, tmp_path):
    mine, _other, _storage = two_students
    admin = staff_actor(engine, "admin")
    out = tmp_path / "export.zip"
    summary = export_student(engine, actor=admin, student_id=mine, target=out)

    with zipfile.ZipFile(out) as zf:
        tables = _tables(zf)
        assert tables["students"][0]["email"] == "export1@example.edu"
        # Every table that holds student rows is there, each with only this student's.
        assert set(tables) == {"students"} | {t.name for t, _ in student_tables()}
        for name, rows in tables.items():
            for row in rows:
                owner = row.get("user_id", row.get("id") if name == "students" else None)
                if owner is not None:
                    assert owner == mine, (name, row)
        assert len(tables["learning_telemetry"]) == 2  # student 2 has 3 events
        assert [r["events"] for r in tables["learning_telemetry_daily"]] == [2]
        assert [r["final_price_target"] for r in tables["learning_leaderboard"]] == ["123.45"]
        assert len(tables["learning_validator_runs"]) == 1  # reached through the submission
        assert tables["learning_feedback"][0]["feedback_text"] == "Good work, 1."

        files = [n for n in zf.namelist() if n.startswith("files/")]
        submission = tables["learning_submissions"][0]
        assert files == [f"files/{submission['id']}-My model 1.xlsx"]
        assert hashlib.sha256(zf.read(files[0])).hexdigest() == submission["file_hash"]

        readme = zf.read("README.txt").decode()
        assert f"student {mine}" in readme
        assert "tables/learning_telemetry.json" in readme and files[0] in readme
    assert summary.rows["learning_telemetry"] == 2 and len(summary.files) == 1


def test_export_is_audited(engine, two_students, tmp_path):
    mine, _other, _storage = two_students
    admin = staff_actor(engine, "admin")
    export_student(engine, actor=admin, student_id=mine, target=tmp_path / "a.zip")
    with session_scope(engine) as session:
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "student.export"))
    assert entry is not None
    assert (entry.actor_email, entry.target_type, entry.target_id) == (admin.email, "student", str(mine))
    assert entry.details["files"] == 1 and entry.details["rows"]["learning_telemetry"] == 2


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_only_admins_may_export(engine, two_students, tmp_path, role):
    mine, _other, _storage = two_students
    with pytest.raises(Forbidden):
        export_student(engine, actor=staff_actor(engine, role), student_id=mine, target=tmp_path / "x.zip")
    with session_scope(engine) as session:
        assert session.scalar(select(AuditLog).where(AuditLog.action == "student.export")) is None


def test_unknown_student_and_a_missing_file(engine, two_students, tmp_path):
    mine, _other, storage = two_students
    admin = staff_actor(engine, "admin")
    with pytest.raises(NotFound, match="No student with id 999"):
        export_student(engine, actor=admin, student_id=999, target=tmp_path / "none.zip")
    with session_scope(engine) as session:
        key = session.scalar(select(LearningSubmission.file_path).where(LearningSubmission.user_id == mine))
    storage.delete(key)
    summary = export_student(engine, actor=admin, student_id=mine, target=tmp_path / "m.zip")
    assert summary.missing_files == [key]
    with zipfile.ZipFile(tmp_path / "m.zip") as zf:
        assert key in zf.read("README.txt").decode()
        assert len(_tables(zf)["learning_submissions"]) == 1


def test_cli_export_writes_the_zip(engine, two_students, tmp_path, monkeypatch, capsys):
    from core.cli import main

    mine, _other, _storage = two_students
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    out = tmp_path / "cli.zip"
    assert main(["student", "export", str(mine), "--out", str(out)]) == 0
    assert "learning_telemetry" in capsys.readouterr().out
    with zipfile.ZipFile(out) as zf:
        assert "README.txt" in zf.namelist()
    assert not (tmp_path / "cli.zip.partial").exists()
