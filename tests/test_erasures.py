"""The erasure ledger: an erasure is noted in `learning_erasures` and in the file a
restore cannot replace; a rolled-back erasure is in neither; replay erases again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import erasures, students
from core.auth import system_actor
from core.db import session_scope
from core.models import ErasureRecord, LearningCompany, LearningSubmission, Student
from core.storage import LocalStorage


@pytest.fixture
def ledger_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NGI_BACKUP_DIR", str(tmp_path / "backups"))
    return tmp_path / "backups"


def _student(engine, storage, n: int) -> int:
    with session_scope(engine) as session:
        company = session.scalar(select(LearningCompany).where(LearningCompany.ticker == "KO"))
        if company is None:
            company = LearningCompany(ticker="KO", company_name="Coca-Cola")
            session.add(company)
            session.flush()
        student = Student(email=f"ledger{n}@example.edu", full_name=f"Ledger {n}")
        session.add(student)
        session.flush()
        key = f"submissions/{student.id}/capstone/model.xlsx"
        import io

        storage.put(key, io.BytesIO(b"workbook"))
        session.add(LearningSubmission(user_id=student.id, company_id=company.id, activity_id="capstone",
                                       module="finance_valuation", submission_type="excel", version=1,
                                       file_path=key, file_name="model.xlsx", is_latest=True))
        return student.id


def test_erase_writes_the_ledger_in_the_table_and_the_file(engine, ledger_dir):
    storage = LocalStorage(ledger_dir / "files")
    sid = _student(engine, storage, 1)
    students.erase(engine, actor=system_actor(engine), student_id=sid)
    with session_scope(engine) as session:
        rows = session.execute(select(ErasureRecord.student_id, ErasureRecord.erased_at)).all()
        assert [r.student_id for r in rows] == [sid]
        assert erasures.count(session) == 1
    entries = erasures.read_file()
    assert [(e.student_id, e.erased_at) for e in entries] == [(sid, rows[0].erased_at)]
    # id and time, nothing else: no name or email in the file
    assert "Ledger" not in erasures.ledger_path().read_text() and "@" not in erasures.ledger_path().read_text()


def test_a_rolled_back_erasure_is_in_neither_ledger(engine, ledger_dir):
    storage = LocalStorage(ledger_dir / "files")
    sid = _student(engine, storage, 2)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        students.erase_rows(session, sid)
        raise RuntimeError("the caller failed after erasing")
    assert erasures.read_file() == []
    with session_scope(engine) as session:
        assert session.get(Student, sid) is not None
        assert erasures.count(session) == 0


def test_replay_erases_again_what_the_database_does_not_know(engine, ledger_dir):
    """A database restored from before an erasure: the student is back, the file ledger
    knows better; replay removes them and their files, and the table learns the entry."""
    storage = LocalStorage(ledger_dir / "files")
    gone, kept = _student(engine, storage, 3), _student(engine, storage, 4)
    students.erase(engine, actor=system_actor(engine), student_id=gone)
    with session_scope(engine) as session:
        (entry,) = erasures.in_database(session)
    # "restore": the student and their file come back, the table entry does not
    with session_scope(engine) as session:
        session.execute(ErasureRecord.__table__.delete())
        session.add(Student(id=gone, email="ledger3@example.edu", full_name="Ledger 3"))
    sid_key = _student(engine, storage, 5)  # a student created later: untouched
    import io

    storage.put(f"submissions/{gone}/capstone/model.xlsx", io.BytesIO(b"restored file"))
    with session_scope(engine) as session:
        company = session.scalar(select(LearningCompany.id))
        session.add(LearningSubmission(user_id=gone, company_id=company, activity_id="capstone",
                                       module="finance_valuation", submission_type="excel", version=1,
                                       file_path=f"submissions/{gone}/capstone/model.xlsx",
                                       file_name="model.xlsx", is_latest=True))

    replayed = erasures.replay(engine, storage)

    assert replayed == [entry]
    with session_scope(engine) as session:
        assert session.get(Student, gone) is None
        assert session.get(Student, kept) is not None and session.get(Student, sid_key) is not None
        assert erasures.in_database(session) == {entry}  # the original time, not the replay's
    assert not storage.exists(f"submissions/{gone}/capstone/model.xlsx")
    assert storage.exists(f"submissions/{kept}/capstone/model.xlsx")
    assert len(erasures.read_file()) == 1  # replay does not append again
    assert erasures.replay(engine, storage) == []  # and a second replay finds nothing
