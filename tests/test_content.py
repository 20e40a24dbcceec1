"""The content tree for staff, and admin edits that are validated and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import content
from core.db import session_scope
from core.errors import Invalid, NotFound
from core.models import AuditLog, LearningContent
from tests.support import staff_actor


def _tree(engine, role="instructor"):
    actor = staff_actor(engine, role)
    with session_scope(engine) as session:
        return content.content_tree(session, actor=actor)


def test_tree_is_in_sequence_order_with_status_minutes_and_prerequisites(seeded_engine):
    tree = _tree(seeded_engine)
    modules = [n["key"] for n in tree if n["type"] == "module"]
    assert modules == ["business_foundations", "accounting_i", "finance_valuation"]
    keys = [n["key"] for n in tree]
    # depth-first: each unit follows its module, each lesson its unit, activity last in its unit
    assert keys.index("unit_1_systems_thinking") == keys.index("business_foundations") + 1
    assert keys.index("a1_drivers_map") == keys.index("l2_revenue_drivers") + 1
    assert keys[-1] == "capstone"
    capstone = next(n for n in tree if n["key"] == "capstone")
    assert capstone["minutes"] == 480 and capstone["published"] and capstone["visible"]
    assert capstone["prerequisite_titles"] == ["Trading comparables",
                                               "Three-statement forecast with working capital and debt"]
    assert capstone["path"].startswith("Finance & Valuation › Valuation › ")
    totals = {t["key"]: t for t in content.module_totals(tree)}
    assert totals["business_foundations"] == dict(module="Business Foundations", key="business_foundations",
                                                   published=True, lessons=2, activities=1, minutes=135)


def test_unpublishing_a_unit_hides_its_children_and_is_audited(seeded_engine):
    admin = staff_actor(seeded_engine, "admin")
    with session_scope(seeded_engine) as session:
        content.set_published(session, actor=admin, key="unit_4_valuation", published=False)
    tree = {n["key"]: n for n in _tree(seeded_engine)}
    assert tree["unit_4_valuation"]["published"] is False
    assert tree["capstone"]["published"] is True and tree["capstone"]["visible"] is False
    assert next(t for t in content.module_totals(list(tree.values()))
                if t["key"] == "finance_valuation")["activities"] == 0
    with session_scope(seeded_engine) as session:
        content.set_published(session, actor=admin, key="unit_4_valuation", published=False)  # no-op, no audit
        content.set_published(session, actor=admin, key="unit_4_valuation", published=True)
        rows = session.execute(select(AuditLog.action, AuditLog.target_id, AuditLog.actor_email)
                               .order_by(AuditLog.id)).all()
    assert [tuple(r) for r in rows] == [("content.unpublish", "unit_4_valuation", admin.email),
                                        ("content.publish", "unit_4_valuation", admin.email)]


def test_edit_title_and_description_keeps_before_and_after_in_the_audit(seeded_engine):
    admin = staff_actor(seeded_engine, "admin")
    with session_scope(seeded_engine) as session:
        content.update_content(session, actor=admin, key="l8_dcf", title="  DCF, step by step ",
                               description="Free cash flow to the firm.")
    with session_scope(seeded_engine) as session:
        row = session.scalar(select(LearningContent).where(LearningContent.content_key == "l8_dcf"))
        assert (row.title, row.description) == ("DCF, step by step", "Free cash flow to the firm.")
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "content.edit"))
        assert entry.details["before"]["title"] == "Discounted cash flow"
        assert entry.details["after"]["title"] == "DCF, step by step"


@pytest.mark.parametrize("title, message", [("   ", "cannot be empty"), ("x" * 256, "limit is 255")])
def test_bad_titles_are_refused_and_nothing_changes(seeded_engine, title, message):
    admin = staff_actor(seeded_engine, "admin")
    with pytest.raises(Invalid, match=message), session_scope(seeded_engine) as session:
        content.update_content(session, actor=admin, key="l8_dcf", title=title, description=None)
    with pytest.raises(NotFound, match="no_such_key"), session_scope(seeded_engine) as session:
        content.set_published(session, actor=admin, key="no_such_key", published=True)
    with session_scope(seeded_engine) as session:
        assert session.scalar(select(LearningContent.title).where(LearningContent.content_key == "l8_dcf")) \
            == "Discounted cash flow"
        assert session.scalar(select(AuditLog.id)) is None


def test_empty_database_gives_an_empty_tree(engine):
    assert _tree(engine) == []
    assert content.module_totals([]) == []


def test_activity_templates_download_and_fail_with_findings(tmp_path):
    """An empty template is a real workbook the validators judge: failed, with findings."""
    from core import content
    from core.access import Actor
    from core.errors import NotFound
    from core.validation import validate_path

    lead = Actor(id=1, email="lead@test.ngi", display_name="Lead", role="program_lead")
    path = tmp_path / "a2.xlsx"
    path.write_bytes(content.activity_template(actor=lead, key="a2_wc_debt"))
    report = validate_path(path, activity_id="a2_wc_debt")
    assert report.status == "failed"
    assert any(check.findings for check in report.checks)
    with pytest.raises(NotFound):
        content.activity_template(actor=lead, key="unit_1_systems_thinking")
