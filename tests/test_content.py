"""The content tree for staff: order, visibility, totals, and the activities' templates."""

from __future__ import annotations

import pytest

from core import authoring, content
from core.db import session_scope
from core.errors import NotFound
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


def test_an_unpublished_unit_hides_its_children_from_students(seeded_engine):
    """The tree's `visible` and the module totals follow the parent's state (the write
    itself, its confirmation and audit are core/authoring.py's, tests/test_authoring.py)."""
    admin = staff_actor(seeded_engine, "admin")
    authoring.set_published(seeded_engine, actor=admin, key="unit_4_valuation", published=False, confirm=True)
    tree = {n["key"]: n for n in _tree(seeded_engine)}
    assert tree["unit_4_valuation"]["published"] is False
    assert tree["capstone"]["published"] is True and tree["capstone"]["visible"] is False
    assert next(t for t in content.module_totals(list(tree.values()))
                if t["key"] == "finance_valuation")["activities"] == 0


def test_empty_database_gives_an_empty_tree(engine):
    assert _tree(engine) == []
    assert content.module_totals([]) == []


def test_activity_templates_download_and_fail_with_findings(tmp_path):
    """An empty template is a real workbook the validators judge: failed, with findings."""
    from core import content
    from core.access import Actor
    from core.validation import validate_path

    lead = Actor(id=1, email="lead@test.ngi", display_name="Lead", role="program_lead")
    path = tmp_path / "a2.xlsx"
    path.write_bytes(content.activity_template(actor=lead, key="a2_wc_debt"))
    report = validate_path(path, activity_id="a2_wc_debt")
    assert report.status == "failed"
    assert any(check.findings for check in report.checks)
    with pytest.raises(NotFound):
        content.activity_template(actor=lead, key="unit_1_systems_thinking")
