"""The Operations page: admins see backups, storage, erasures and jobs; other roles are
refused; an overdue backup warns admins on the home page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import operations
from tests.support import app_test
from tests.test_operations import fake_backup


@pytest.fixture
def files(data_env):
    return data_env


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "success", "error")
                     for e in at.get(kind))


def test_admin_sees_backups_storage_erasures_and_jobs(db_url, files, monkeypatch):
    monkeypatch.setattr(operations, "_backup_module", lambda: fake_backup(full_age=timedelta(days=2), verify_ok=False))
    at = app_test(db_url, monkeypatch, role="admin", page="operations")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Operations"]
    backups = at.dataframe[0].value
    assert list(backups["Kind"]) == ["full", "incremental", "files"]
    assert list(backups["Age"]) == ["2 days ago", "2 h ago", "never"]
    assert list(backups["Overdue"]) == [True, False, True]
    texts = _texts(at)
    assert "The last full backup was" in texts and "differed" in texts
    labels = {m.label for m in at.metric}
    assert {"Stored files", "Storage used", "Erasure ledger"} <= labels
    assert any(label.startswith("Job") for label in labels)


def test_without_backups_the_page_says_not_configured(db_url, files, monkeypatch):
    monkeypatch.setattr(operations, "_backup_module", lambda: None)
    at = app_test(db_url, monkeypatch, role="admin", page="operations")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Backups: not configured" in _texts(at)


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_other_roles_cannot_open_it(db_url, files, monkeypatch, role):
    at = app_test(db_url, monkeypatch, role=role, page="operations")
    at.run()
    assert any("do not have access" in e.value for e in at.error)
    assert not at.metric and "Operations" not in [t.value for t in at.title]


@pytest.mark.parametrize("role, warned", [("admin", True), ("instructor", False)])
def test_overdue_backup_warns_admins_on_home(db_url, files, monkeypatch, role, warned):
    monkeypatch.setattr(operations, "_backup_module", lambda: fake_backup(full_age=timedelta(days=3)))
    at = app_test(db_url, monkeypatch, role=role, page="home")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("full backup was 3 days ago" in w.value for w in at.warning) is warned
