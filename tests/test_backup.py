"""Backups proven by restores, on the embedded SQLite with restic: the demo seed's
database and files are backed up, changed, verified, restored (erasures replayed), and
a tampered backup fails verify. Plus the status the Operations page reads."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select, update

from core import backup, students
from core.cli import main
from core.db import make_engine, session_scope, utcnow
from core.models import LearningSubmission, Student
from tests.support import unavailable


def test_status_says_which_kind_is_older_than_its_schedule(tmp_path, monkeypatch):
    monkeypatch.setenv("NGI_BACKUP_DIR", str(tmp_path))
    now = utcnow()
    rows = [
        backup.BackupRecord("a", "full", "restic", (now - timedelta(hours=30)).isoformat(),
                            (now - timedelta(hours=30)).isoformat(), 100),
        backup.BackupRecord("b", "incremental", "restic", (now - timedelta(hours=2)).isoformat(),
                            (now - timedelta(hours=2)).isoformat(), 10),
        backup.BackupRecord("", "incremental", "restic", now.isoformat(), now.isoformat(), 0, ok=False,
                            error="restic failed"),
    ]
    (tmp_path / "state.json").write_text(json.dumps({"backups": [r.__dict__ for r in rows], "verify": None}))
    status = {s.kind: s for s in backup.backup_status(now)}
    assert status["full"].overdue and status["full"].size == 100  # a day and a half old, due daily
    assert not status["incremental"].overdue and status["incremental"].age == timedelta(hours=2)
    assert status["incremental"].ok is False  # the last attempt failed, the last good one still counts
    assert status["files"].last_at is None and status["files"].overdue
    assert backup.last_verify() is None
    said = backup.warnings(now)
    assert "The last full backup is 30 h old (due every 24 h)." in said
    assert "The last incremental backup attempt failed." in said
    assert "No files backup has been taken (due every 6 h)." in said
    assert "No test restore (`ngi backup verify`) in the last month." in said


@pytest.fixture
def drill_env(tmp_path, monkeypatch, demo_cohorts):
    """NGI_DATA_DIR holding a copy of the demo cohort (tests.support.DemoCohorts): the
    SQLite database data/ngi.db and its stored files under data/files."""
    for tool in ("restic",):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed (Debian package {tool})")
    data = tmp_path / "data"
    monkeypatch.setenv("NGI_DATA_DIR", str(data))
    monkeypatch.setenv("NGI_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.delenv("NGI_STORAGE_URL", raising=False)
    monkeypatch.delenv("NGI_RESTIC_REPOSITORY", raising=False)
    monkeypatch.delenv("NGI_RESTIC_PASSWORD_FILE", raising=False)
    url = demo_cohorts.copy("sqlite", data).url
    assert url == f"sqlite:///{data / 'ngi.db'}"  # where the app finds it without DATABASE_URL
    monkeypatch.setenv("DATABASE_URL", url)
    return url, data


def _student_with_files(engine) -> tuple[int, list[str]]:
    with session_scope(engine) as session:
        sid = session.scalar(select(LearningSubmission.user_id).order_by(LearningSubmission.id))
        return sid, students.file_keys(session, sid)


@pytest.mark.backup
def test_sqlite_drill_backup_change_verify_restore(drill_env, capsys):
    url, data = drill_env
    assert main(["backup", "run", "--full"]) == 0
    assert main(["backup", "verify"]) == 0  # right after a backup: the backup restores what was taken
    assert "verify: OK" in capsys.readouterr().out

    engine = make_engine(url)
    erased, keys = _student_with_files(engine)
    assert keys and all((data / "files" / k).exists() for k in keys)
    assert main(["student", "erase", str(erased)]) == 0
    with session_scope(engine) as session:  # a change after the backup, which restore undoes
        before = session.scalar(select(func.count()).select_from(Student))
        session.add(Student(email="late@example.edu", full_name="Joined After The Backup"))
        session.execute(update(Student).where(Student.id != erased).values(cohort="renamed"))
    engine.dispose()
    capsys.readouterr()
    # verify compares the backup with the source at backup time, so the change does not fail it
    assert main(["backup", "verify"]) == 0
    assert backup.last_verify().ok

    assert main(["backup", "restore", "--to", "latest"]) == 0
    out = capsys.readouterr().out
    assert "replayed 1 erasure(s)" in out
    engine = make_engine(url)
    with session_scope(engine) as session:
        assert session.get(Student, erased) is None  # the erasure survived the restore
        assert session.scalar(select(func.count()).select_from(Student)) == before  # late joiner gone
        assert session.scalar(select(func.count()).select_from(Student).where(Student.cohort == "renamed")) == 0
        assert session.scalar(select(func.count()).select_from(LearningSubmission).where(
            LearningSubmission.user_id == erased)) == 0
    engine.dispose()
    assert not any((data / "files" / k).exists() for k in keys)  # and so did their files
    assert main(["backup", "list"]) == 0
    assert "files" in capsys.readouterr().out

    # Tampered: the repository's data no longer restores what was backed up.
    packs = [p for p in (data.parent / "backups" / "restic" / "data").rglob("*") if p.is_file()]
    for pack in packs:
        raw = bytearray(pack.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        pack.write_bytes(bytes(raw))
    assert main(["backup", "verify"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENCE" in out and "verify: FAILED" in out
    assert backup.last_verify().ok is False


@pytest.mark.backup
def test_verify_names_a_file_that_differs_from_the_source_at_backup_time(drill_env, capsys):
    """A backup whose manifest (the source at backup time) disagrees with what restores."""
    _, data = drill_env
    assert main(["backup", "run", "--incremental"]) == 0
    files = [r for r in backup.records() if r.kind == "files"][-1]
    manifest_path = data.parent / "backups" / "manifests" / f"{files.id}.json"
    manifest = json.loads(manifest_path.read_text())
    key = min(manifest["files"])
    manifest["files"][key] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["backup", "verify"]) == 1
    assert f"file {key}: source had" in capsys.readouterr().out


def test_restore_target_picks_latest_an_id_or_the_newest_before_a_time():
    from datetime import datetime

    from core.errors import Invalid, NotFound
    from core.restic import Snapshot
    from core.restore import pick

    def snap(ident, hour):
        return Snapshot(ident, datetime(2026, 12, 1, hour, tzinfo=UTC), ("database",), ())

    found = [snap("aaa111", 2), snap("bbb222", 8), snap("ccc333", 14)]
    assert pick(found, "latest", "database").id == "ccc333"
    assert pick(found, "bbb2", "database").id == "bbb222"
    assert pick(found, "2026-12-01T09:30:00Z", "database").id == "bbb222"
    assert pick(found, "2026-12-01T04:00:00-05:00", "database").id == "bbb222"  # 09:00 UTC
    with pytest.raises(NotFound, match="at or before"):
        pick(found, "2026-12-01T01:00:00", "database")
    with pytest.raises(Invalid, match="neither 'latest'"):
        pick(found, "yesterday", "database")
    with pytest.raises(NotFound, match="run `ngi backup run` first"):
        pick([], "latest", "database")
