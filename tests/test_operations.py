"""What the Operations page reads: backups (from core.backup when installed), storage and
database size, the erasure ledger and the job queue; absent parts say "not configured"."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from core import attention, operations
from core.access import Actor
from core.db import session_scope
from core.errors import Forbidden
from core.storage import storage_for
from tests.support import staff_actor

ADMIN = Actor(id=None, email="admin@test.ngi", display_name="Admin", role="admin")
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def fake_backup(*, full_age: timedelta | None, verify_ok: bool | None = True, error: Exception | None = None):
    """A stand-in for core.backup with the two functions the page calls."""
    def status(now=None):
        if error is not None:
            raise error
        def kind(name, age, every):
            return SimpleNamespace(kind=name, last_at=None if age is None else NOW - age, age=age, size=2048,
                                   ok=True, due_every=every, overdue=age is None or age > every)
        return [kind("full", full_age, timedelta(days=1)), kind("incremental", timedelta(hours=2), timedelta(hours=6)),
                kind("files", None, timedelta(hours=6))]

    verify = None if verify_ok is None else SimpleNamespace(at="2026-12-01T03:00:00+00:00", backup_id="b-1",
                                                           ok=verify_ok, differences=[] if verify_ok else ["x"])
    return SimpleNamespace(backup_status=status, last_verify=lambda: verify)


def test_overview_measures_storage_and_database(engine, data_env):
    storage = storage_for(None)
    storage.put("submissions/1/a/x.xlsx", io.BytesIO(b"a" * 1000))
    storage.put("submissions/2/a/y.xlsx", io.BytesIO(b"b" * 500))
    with session_scope(engine) as session:
        data = operations.overview(session, actor=ADMIN, now=NOW)
    assert (data["storage"]["files"], data["storage"]["bytes"]) == (2, 1500)
    assert data["database_bytes"] > 0 and data["database_engine"] == engine.dialect.name


def test_only_admins_read_operations(engine):
    with session_scope(engine) as session:
        for role in ("instructor", "program_lead"):
            with pytest.raises(Forbidden):
                operations.overview(session, actor=staff_actor(engine, role))


def test_backups_with_ages_overdue_and_verify(monkeypatch):
    monkeypatch.setattr(operations, "_backup_module", lambda: fake_backup(full_age=timedelta(days=2)))
    data = operations.backups(now=NOW)
    by_kind = {k["kind"]: k for k in data["kinds"]}
    assert data["configured"] and data["verify"]["ok"]
    assert (by_kind["full"]["age"], by_kind["full"]["overdue"]) == ("2 days ago", True)
    assert (by_kind["incremental"]["age"], by_kind["incremental"]["overdue"]) == ("2 h ago", False)
    assert by_kind["files"]["age"] == "never"
    # Only a kind that ran before and is now late is a warning; a kind never run is not.
    assert [k["kind"] for k in operations.overdue_backups(now=NOW)] == ["full"]


def test_absent_or_broken_backups_degrade_to_not_configured(monkeypatch):
    monkeypatch.setattr(operations, "_backup_module", lambda: None)
    assert operations.backups()["configured"] is False and operations.overdue_backups() == []
    monkeypatch.setattr(operations, "_backup_module",
                        lambda: fake_backup(full_age=None, error=OSError("backup folder unreadable")))
    data = operations.backups()
    assert data["configured"] is False and "backup folder unreadable" in data["reason"]


def test_home_warning_is_for_admins(engine, monkeypatch):
    monkeypatch.setattr(operations, "_backup_module", lambda: fake_backup(full_age=timedelta(days=3)))
    assert [k["kind"] for k in attention.overdue_backups(actor=staff_actor(engine, "admin"))] == ["full"]
    with pytest.raises(Forbidden):
        attention.overdue_backups(actor=staff_actor(engine, "instructor"))


def test_job_queue_depth_and_failures(engine):
    # The outbox table as the job queue defines it (status is what is counted).
    jobs = sa.Table("ops_test_jobs", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("status", sa.String(20)))
    jobs.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(jobs.insert(), [{"status": s} for s in
                                         ["queued"] * 3 + ["running"] + ["failed"] * 2 + ["parked"] + ["done"] * 5])
        with session_scope(engine) as session:
            queue = operations.job_queue(session, jobs)
        assert queue == {"depth": 4, "queued": 3, "running": 1, "failed": 2, "parked": 1}
    finally:
        jobs.drop(engine)
