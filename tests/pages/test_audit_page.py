"""The audit log page through AppTest: admins list and filter entries; other roles are refused."""

from __future__ import annotations

from core import audit
from core.db import make_engine, session_scope
from tests.support import app_test, staff_actor


def test_admin_filters_the_audit_log(db_url, monkeypatch):
    engine = make_engine(db_url)
    admin = staff_actor(engine, "admin")
    with session_scope(engine) as s:
        audit.record(s, admin, "grade.release", target_type="submission", target_id=7)
        audit.record(s, admin, "feedback.flag", target_type="feedback", target_id=3, details={"reason": "harsh"})
    engine.dispose()
    at = app_test(db_url, monkeypatch, role="admin", page="audit").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert {"grade.release", "feedback.flag"} <= set(table["What"])
    at.selectbox(key="audit_action").set_value("feedback.flag").run()
    table = at.dataframe[0].value
    assert list(table["What"]) == ["feedback.flag"] and "reason: harsh" in table["Details"][0]


def test_instructors_are_refused(db_url, monkeypatch):
    at = app_test(db_url, monkeypatch, role="instructor", page="audit").run()
    assert any("do not have access" in e.value for e in at.error) and not at.dataframe
