"""GDPR erasure: one student's rows go, everything reached through them goes, and no
one else's rows are touched."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core import students
from core.db import session_scope
from core.errors import NotFound
from core.models import (
    LearningCompany,
    LearningFeedback,
    LearningLeaderboard,
    LearningProgress,
    LearningSubmission,
    LearningTelemetry,
    Student,
    ValidatorRun,
)
from tests.support import SETUP_ADMIN

USER_TABLES = [LearningProgress, LearningSubmission, LearningFeedback, LearningLeaderboard, LearningTelemetry]


def _fill(session, company, n):
    student = Student(email=f"gdpr{n}@example.edu", full_name=f"Student {n}")
    session.add(student)
    session.flush()
    session.add(LearningProgress(user_id=student.id, selected_company_id=company.id))
    submission = LearningSubmission(
        user_id=student.id, company_id=company.id, activity_id="capstone", module="finance_valuation",
        submission_type="excel", version=1, file_path=f"submissions/{student.id}/capstone/x.xlsx",
        file_name="m.xlsx", is_latest=True, validator_status="passed",
    )
    session.add(submission)
    session.flush()
    session.add(ValidatorRun(submission_id=submission.id, status="passed", report={"status": "passed"}))
    session.add(LearningFeedback(submission_id=submission.id, user_id=student.id, feedback_type="rubric",
                                 feedback_text="Good work."))
    session.add(LearningLeaderboard(user_id=student.id, company_id=company.id, submission_id=submission.id,
                                    valuation_date=date(2025, 3, 1), anonymous_id=f"Analyst_00000{n}",
                                    final_price_target=123))
    session.add(LearningTelemetry(user_id=student.id, event_type="submission", submission_id=submission.id,
                                  company_id=company.id))
    return student.id


def _count(session, model, user_id):
    return session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id))


def test_erase_removes_everything_of_one_student_only(engine):
    with session_scope(engine) as session:
        company = LearningCompany(ticker="KO", company_name="Coca-Cola")
        session.add(company)
        session.flush()
        gone, kept = _fill(session, company, 1), _fill(session, company, 2)

    counts = students.erase(engine, actor=SETUP_ADMIN, student_id=gone).rows
    assert counts["students"] == 1
    assert all(counts[m.__tablename__] == 1 for m in USER_TABLES)
    assert counts["learning_validator_runs"] == 1

    with session_scope(engine) as session:
        assert session.get(Student, gone) is None
        for model in USER_TABLES:
            assert _count(session, model, gone) == 0, model.__tablename__
            assert _count(session, model, kept) == 1, model.__tablename__
        # Reached through the erased submission, not the user id: gone as well.
        assert session.scalar(select(func.count()).select_from(ValidatorRun)) == 1


def test_erasing_an_unknown_student_says_so(engine):
    with pytest.raises(NotFound, match="No student with id 999"):
        students.erase(engine, actor=SETUP_ADMIN, student_id=999)


# -- the audit trail forgets the student too ------------------------------------------

NAME, EMAIL = "Zelda Quixote-Marchbanks", "zelda.qm@example.edu"


def _audited_student(engine):
    """A student whose name, email and ids sit in every kind of audit row that staff write."""
    from core import audit, review
    from tests.support import staff_actor

    instructor = staff_actor(engine, "instructor")
    admin = staff_actor(engine, "admin")
    with session_scope(engine) as session:
        company = LearningCompany(ticker="KO", company_name="Coca-Cola")
        session.add(company)
        session.flush()
        session.add(Student(email=EMAIL, full_name=NAME))
        session.flush()
        sid = session.scalar(select(Student.id).where(Student.email == EMAIL))
        other = _fill(session, company, 7)
        sub = LearningSubmission(
            user_id=sid, company_id=company.id, activity_id="capstone", module="finance_valuation",
            submission_type="excel", version=1, file_path=f"submissions/{sid}/capstone/z.xlsx",
            file_name=f"{NAME} capstone.xlsx", is_latest=True, validator_status="passed")
        session.add(sub)
        session.flush()
        fb = LearningFeedback(submission_id=sub.id, user_id=sid, feedback_type="rubric", feedback_text="Fine.")
        session.add(fb)
        session.flush()
        sub_id, fb_id = sub.id, fb.id
    review.mark_reviewed(engine, actor=instructor, submission_id=sub_id, notes=f"Spoke to {NAME} ({EMAIL}) about the DCF.")
    review.reveal_identity(engine, actor=instructor, submission_id=sub_id, reason="plagiarism check")
    with session_scope(engine) as session:
        # The other writers, in the shapes they write (core/submissions, feedback, leaderboard).
        audit.record(session, instructor, "submission.upload_on_behalf", target_type="submission", target_id=sub_id,
                     details={"student_id": sid, "activity_id": "capstone", "version": 1,
                              "file_name": f"{NAME} capstone.xlsx"})
        audit.record(session, instructor, "feedback.flag", target_type="feedback", target_id=fb_id,
                     details={"reason": f"mentions {NAME}"})
        audit.record(session, admin, "leaderboard.reveal", target_type="company", target_id="KO",
                     details={"reason": f"checking {EMAIL} for plagiarism", "entries": 2})
        audit.record(session, admin, "company.add", target_type="company", target_id="PEP", details={"ok": 1})
        audit.record(session, instructor, "submission.review", target_type="submission", target_id=999,
                     details={"notes": "unrelated work"})
    return sid, sub_id, fb_id, other


def _erase(engine, sid):
    students.erase(engine, actor=SETUP_ADMIN, student_id=sid)
    assert students.forget_freed_pages(engine)


def test_erasure_tombstones_every_audit_row_about_the_student(engine):
    from core.models import AuditLog

    sid, sub_id, _fb_id, _ = _audited_student(engine)
    with session_scope(engine) as session:
        before = session.scalar(select(func.count()).select_from(AuditLog))
    _erase(engine, sid)
    with session_scope(engine) as session:
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        # The trail still says what happened, by whom and when ...
        assert len(rows) == before + 1 and (rows[-1].action, rows[-1].target_id) == ("student.erase", None)
        assert [r.action for r in rows][:6] == ["submission.review", "student.reveal", "submission.upload_on_behalf",
                                                 "feedback.flag", "leaderboard.reveal", "company.add"]
        assert all(r.actor_email and r.created_at for r in rows)
        # ... but not about whom.
        for row in rows[:5]:
            assert row.details == {"erased": True}, row.action
            assert row.target_id is None, row.action
        text = repr([(r.target_type, r.target_id, r.details) for r in rows]).lower()
        assert NAME.lower() not in text and EMAIL not in text
        assert str(sub_id) not in {r.target_id for r in rows}
        # Rows about other things are left alone.
        assert rows[5].details == {"ok": 1} and rows[6].details == {"notes": "unrelated work"}
        assert rows[6].target_id == "999"


def test_erased_name_and_email_leave_no_bytes_in_the_sqlite_files(sqlite_url):
    from sqlalchemy import event

    from core.db import make_engine

    engine = make_engine(sqlite_url)

    # Play a SQLite built without Debian's SECURE_DELETE default: the app must set it itself.
    @event.listens_for(engine, "connect", insert=True)
    def _like_upstream_build(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA secure_delete=OFF")

    try:
        sid, *_ = _audited_student(engine)
        path = sqlite_url.removeprefix("sqlite:///")

        def raw() -> bytes:
            files = [path, path + "-wal"]
            return b"".join(open(f, "rb").read() for f in files if __import__("os").path.exists(f))

        assert NAME.encode() in raw()  # the probe can see them before erasure
        _erase(engine, sid)
        data = raw()
        assert NAME.encode() not in data and EMAIL.encode() not in data
        assert b"Quixote" not in data
    finally:
        engine.dispose()


def test_the_erase_command_leaves_the_student_in_no_table(engine, db_url, data_env):
    import sqlalchemy as sa

    from core.db import Base
    from core.models import AuditLog
    from tests.test_cli import ngi

    sid, sub_id, fb_id, _ = _audited_student(engine)
    engine.dispose()
    result = ngi("student", "erase", str(sid), db_url=db_url, env_extra={"NGI_DATA_DIR": str(data_env)})
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    dump = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in sa.inspect(engine).get_table_names():
                dump += [str(tuple(row)) for row in conn.execute(table.select())]
    text = "\n".join(dump).lower()
    assert NAME.lower() not in text and EMAIL not in text and "quixote" not in text
    with session_scope(engine) as session:
        trail = session.execute(select(AuditLog.action, AuditLog.target_type, AuditLog.target_id)).all()
    assert ("student.erase", "student", None) in trail
    about = {(kind, str(i)) for kind, i in (("student", sid), ("submission", sub_id), ("feedback", fb_id))}
    assert not about & {(kind, target) for _a, kind, target in trail}
