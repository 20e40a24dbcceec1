"""The audit viewer's read service: filters by who, what, target and when; admins only
(both engines)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import audit
from core.db import session_scope, utcnow
from core.errors import Forbidden
from tests.support import staff_actor


def test_search_filters_by_who_what_target_and_when(engine):
    admin, instructor = staff_actor(engine, "admin"), staff_actor(engine, "instructor")
    with session_scope(engine) as s:
        audit.record(s, instructor, "grade.save", target_type="submission", target_id=7, details={"to": "graded"})
        audit.record(s, admin, "grade.release", target_type="submission", target_id=7)
        audit.record(s, admin, "feedback.flag", target_type="feedback", target_id=3, details={"reason": "harsh"})
    with session_scope(engine) as s:
        everything = audit.search(s, actor=admin)
        assert everything["total"] >= 3 and everything["rows"][0]["action"] == "feedback.flag"  # newest first
        by_instructor = audit.search(s, actor=admin, who="INSTRUCTOR@test")
        assert [r["action"] for r in by_instructor["rows"]] == ["grade.save"]
        assert by_instructor["rows"][0]["who"] == "Test instructor"
        about_7 = audit.search(s, actor=admin, target_type="submission", target_id="7")
        assert {r["action"] for r in about_7["rows"]} == {"grade.save", "grade.release"}
        assert audit.search(s, actor=admin, action="grade.release")["total"] == 1
        assert audit.search(s, actor=admin, since=utcnow() + timedelta(hours=1))["total"] == 0
        assert "grade.save" in audit.vocabulary(s, actor=admin)["actions"]
        with pytest.raises(Forbidden):
            audit.search(s, actor=instructor)
