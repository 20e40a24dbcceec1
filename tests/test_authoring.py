"""Authoring the curriculum on both engines: create, move, reorder, delete and archive;
cycle refusal; weight validation; one reading of the rules; progress after a structure
change; revisions and restore."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import authoring, content_history, content_tree, prerequisites, telemetry
from core.db import session_scope, utcnow
from core.errors import Conflict, Forbidden, Invalid
from core.feedback.prompt import activity_info
from core.models import (
    AuditLog,
    LearningCompany,
    LearningProgress,
    LearningSubmission,
    Student,
)
from core.rules import ActivityRules, Check, Criterion, PdfContent, PdfRequirements
from tests.support import staff_actor


@pytest.fixture
def admin(seeded_engine):
    return staff_actor(seeded_engine, "admin")


def _tree(engine):
    with session_scope(engine) as s:
        return content_tree.current(s)


def _children(engine, key):
    return list(_tree(engine).children.get(key, ()))


def test_create_a_lesson_as_a_draft_with_body_and_it_is_revised_and_audited(seeded_engine, admin):
    authoring.create_node(seeded_engine, actor=admin, kind="lesson", key="l10_lbo", title="Leveraged buyouts",
                          parent_key="unit_4_valuation", position=2, body="# LBO\n\nDebt **funds** the deal.",
                          minutes=35, difficulty="advanced", objectives=["Size the debt", " "])
    tree = _tree(seeded_engine)
    assert list(tree.children["unit_4_valuation"]) == ["l8_dcf", "l10_lbo", "l9_comparables", "capstone"]
    node = tree.node("l10_lbo")
    assert (node.published, node.minutes, node.difficulty, node.objectives) == (False, 35, "advanced",
                                                                                ("Size the debt",))
    assert node.body.startswith("# LBO") and not tree.visible("l10_lbo")
    with session_scope(seeded_engine) as s:
        [rev] = content_history.history(s, actor=admin, key="l10_lbo")
        assert (rev["action"], rev["by"], rev["before"]) == ("content.create", admin.email, None)
        assert s.scalar(select(AuditLog.action).where(AuditLog.target_id == "l10_lbo")) == "content.create"


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="lesson", key="l1_business_model", title="x", parent_key="unit_4_valuation"), "already used"),
    (dict(kind="lesson", key="Bad Key", title="x", parent_key="unit_4_valuation"), "lower-case"),
    (dict(kind="lesson", key="lx", title="x", parent_key="accounting_i"), "belongs in a unit"),
    (dict(kind="unit", key="ux", title="  ", parent_key="accounting_i"), "cannot be empty"),
    (dict(kind="lesson", key="lx", title="x", parent_key="unit_4_valuation", difficulty="hard"), "Difficulty"),
])
def test_bad_creations_are_refused_and_nothing_changes(seeded_engine, admin, kwargs, message):
    before = _tree(seeded_engine).order
    with pytest.raises(Invalid, match=message):
        authoring.create_node(seeded_engine, actor=admin, **kwargs)
    assert _tree(seeded_engine).order == before


def test_instructors_cannot_author(seeded_engine):
    with pytest.raises(Forbidden):
        authoring.create_node(seeded_engine, actor=staff_actor(seeded_engine, "instructor"), kind="module",
                              key="m4", title="Extra")


def test_move_and_reorder_renumber_both_sibling_lists(seeded_engine, admin):
    authoring.move_node(seeded_engine, actor=admin, key="l2_revenue_drivers", parent_key="unit_4_valuation",
                        position=1)
    assert _children(seeded_engine, "unit_1_systems_thinking") == ["l1_business_model", "a1_drivers_map"]
    assert _children(seeded_engine, "unit_4_valuation")[:2] == ["l2_revenue_drivers", "l8_dcf"]
    with pytest.raises(Invalid, match="belongs in a module"):
        authoring.move_node(seeded_engine, actor=admin, key="unit_4_valuation", parent_key="unit_2_three_statements")
    authoring.reorder(seeded_engine, actor=admin, parent_key=None,
                      keys=["finance_valuation", "business_foundations", "accounting_i"])
    assert _children(seeded_engine, None) == ["finance_valuation", "business_foundations", "accounting_i"]
    with session_scope(seeded_engine) as s:
        sequences = [content_tree.current(s).node(k).sequence for k in _children(seeded_engine, "unit_4_valuation")]
    assert sequences == [1, 2, 3, 4]
    with pytest.raises(Invalid, match="exactly once"):
        authoring.reorder(seeded_engine, actor=admin, parent_key=None, keys=["accounting_i"])


def _submission(engine, activity="a1_drivers_map", status="passed"):
    with session_scope(engine) as s:
        if s.get(Student, 1) is None:
            s.add(Student(id=1, email="ana@school.edu", cohort="c1"))
        company = s.scalar(select(LearningCompany).limit(1))
        s.flush()
        s.add(LearningSubmission(user_id=1, company_id=company.id, activity_id=activity, module="m",
                                 submission_type="excel", version=1, file_path=f"k/{activity}", file_name="m.xlsx",
                                 validator_status=status, is_latest=True, created_at=utcnow()))


def test_delete_needs_confirmation_and_a_node_with_submissions_is_archived_not_deleted(seeded_engine, admin):
    with pytest.raises(authoring.NeedsConfirmation, match="3 item") as err:
        authoring.delete_node(seeded_engine, actor=admin, key="unit_4_valuation")
    assert "Trading comparables" in err.value.message
    assert "capstone" in _tree(seeded_engine)
    assert authoring.delete_node(seeded_engine, actor=admin, key="unit_4_valuation", confirm=True) == [
        "unit_4_valuation", "l8_dcf", "l9_comparables", "capstone"]
    assert "capstone" not in _tree(seeded_engine)

    _submission(seeded_engine, "a1_drivers_map")
    with pytest.raises(Conflict, match=r"1 student submission.*Archive it instead"):
        authoring.delete_node(seeded_engine, actor=admin, key="a1_drivers_map")
    with pytest.raises(authoring.NeedsConfirmation, match="submission"):
        authoring.set_published(seeded_engine, actor=admin, key="a1_drivers_map", published=False)
    authoring.archive_node(seeded_engine, actor=admin, key="a1_drivers_map", confirm=True)
    tree = _tree(seeded_engine)
    assert tree.node("a1_drivers_map").archived and "a1_drivers_map" not in tree.content_map().activities


def test_a_prerequisite_cycle_is_refused_with_the_cycle_named(seeded_engine, admin):
    with pytest.raises(Invalid, match="cycle: Debt schedules → Working-capital days → Debt schedules"):
        authoring.set_prerequisites(seeded_engine, actor=admin, key="l6_working_capital",
                                    requires=["l7_debt_schedule"])
    assert _tree(seeded_engine).prerequisites("l6_working_capital") == ()
    authoring.set_prerequisites(seeded_engine, actor=admin, key="l6_working_capital", requires=["l5_cash_flow"])
    assert _tree(seeded_engine).prerequisites("l6_working_capital") == ("l5_cash_flow",)
    assert prerequisites.find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]


def test_unmet_prerequisites_and_the_submission_records_them(seeded_engine):
    with session_scope(seeded_engine) as s:
        s.add(Student(id=1, email="ana@school.edu", cohort="c1"))
    with session_scope(seeded_engine) as s:
        unmet = [u["key"] for u in prerequisites.unmet_prerequisites(s, 1, "a1_drivers_map")]
    assert unmet == ["l2_revenue_drivers"]
    with session_scope(seeded_engine) as s:
        telemetry.record_event(s, user_id=1, event_type="lesson_view", lesson="l2_revenue_drivers")
    with session_scope(seeded_engine) as s:
        assert prerequisites.unmet_prerequisites(s, 1, "a1_drivers_map") == []
        # the capstone's module requires accounting_i, whose lessons and activity are not done
        unmet = [u["key"] for u in prerequisites.unmet_prerequisites(s, 1, "capstone")]
    assert unmet == ["accounting_i", "a2_wc_debt", "l9_comparables"]


@pytest.mark.parametrize("rules, message", [
    (ActivityRules(criteria=(Criterion("accuracy", "", 0.5), Criterion("reasoning", "", 0.4))), "90%, not 100%"),
    (ActivityRules(checks=(Check("spell_check"),)), "unknown check 'spell_check'"),
    (ActivityRules(checks=(Check("bs_balances", (("colour", 1),)),)), "no parameter 'colour'"),
])
def test_rules_are_refused_with_the_problem_named(seeded_engine, admin, rules, message):
    with pytest.raises(Invalid, match=message):
        authoring.set_rules(seeded_engine, actor=admin, key="a1_drivers_map", rules=rules)


def test_rules_are_read_identically_by_validation_submissions_and_feedback(seeded_engine, admin):
    from core import submissions, validation

    new = ActivityRules(required_sheets=("Revenue Drivers", "Notes"),
                        checks=(Check("required_sheets"), Check("revenue_build", (("tolerance", 0.01),))),
                        criteria=(Criterion("accuracy", "Ties out.", 0.7, (0, 10)),
                                  Criterion("reasoning", "Explained.", 0.3)), submission_types=("excel", "pdf_memo"),
                        pdf=PdfRequirements(content=(("pdf_memo", PdfContent(200, ("risks",))),)))
    authoring.set_rules(seeded_engine, actor=admin, key="a1_drivers_map", rules=new)
    with session_scope(seeded_engine) as s:
        from_submissions = submissions.rubric(s, "a1_drivers_map")
        info = activity_info(s, "a1_drivers_map")
        tree_rules = content_tree.current(s).rules("a1_drivers_map")
    assert from_submissions == tree_rules == new
    assert info["weights"] == {"accuracy": 0.7, "reasoning": 0.3}
    assert info["pdf"] == {"pdf_memo": {"min_words": 200, "sections": ["risks"], "price_target": False}}
    assert info["checks"] == ["required_sheets", "revenue_build"] and info["required_sheets"] == ["Revenue Drivers",
                                                                                                  "Notes"]
    # the one default: rules that name no checks run none, whoever reads them
    empty = ActivityRules.from_dict({"required_sheets": ["X"]})
    assert empty.check_ids == [] and validation.rubric_for("a1_drivers_map").check_ids[0] == "required_sheets"


def test_progress_is_recomputed_when_the_structure_changes(seeded_engine, admin):
    with session_scope(seeded_engine) as s:
        s.add(Student(id=1, email="ana@school.edu", cohort="c1"))
    with session_scope(seeded_engine) as s:
        telemetry.record_event(s, user_id=1, event_type="validator_pass", activity="a1_drivers_map",
                               module="business_foundations")
    with session_scope(seeded_engine) as s:
        before = s.scalar(select(LearningProgress).where(LearningProgress.user_id == 1))
        assert (before.units_completed, before.modules_completed) == (1, 1)
    authoring.create_node(seeded_engine, actor=admin, kind="activity", key="a1b_extra", title="Extra drivers",
                          parent_key="unit_1_systems_thinking", published=True)
    with session_scope(seeded_engine) as s:
        after = s.scalar(select(LearningProgress).where(LearningProgress.user_id == 1))
        assert (after.units_completed, after.modules_completed) == (0, 0)
        assert after.completion_percentage < before.completion_percentage


def test_restore_an_earlier_revision(seeded_engine, admin):
    authoring.edit_node(seeded_engine, actor=admin, key="l8_dcf", title="DCF v2", body="Second")
    authoring.edit_node(seeded_engine, actor=admin, key="l8_dcf", title="DCF v3", body="Third")
    authoring.move_node(seeded_engine, actor=admin, key="l8_dcf", parent_key="unit_1_systems_thinking")
    with session_scope(seeded_engine) as s:
        revs = content_history.history(s, actor=admin, key="l8_dcf")
    assert [r["action"] for r in revs] == ["content.move", "content.edit", "content.edit"]
    first_edit = revs[-1]
    assert first_edit["changed"] == ["title", "body"]
    authoring.restore_revision(seeded_engine, actor=admin, revision_id=first_edit["id"])
    tree = _tree(seeded_engine)
    node = tree.node("l8_dcf")
    assert (node.title, node.body, node.parent) == ("DCF v2", "Second", "unit_4_valuation")
    assert tree.children["unit_4_valuation"][0] == "l8_dcf"
    # a deleted node comes back from its deletion revision
    authoring.delete_node(seeded_engine, actor=admin, key="l9_comparables")
    with session_scope(seeded_engine) as s:
        deletion = content_history.history(s, actor=admin, key="l9_comparables")[0]
    authoring.restore_revision(seeded_engine, actor=admin, revision_id=deletion["id"])
    assert _tree(seeded_engine).prerequisites("l9_comparables") == ("l8_dcf",)


def test_the_review_queue_filters_on_prerequisites_met(seeded_engine, data_env, monkeypatch):
    import io
    import random

    from core.auth import system_actor
    from core.review import QueueFilters, queue
    from core.submissions import submit
    from core.validation import templates

    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    with session_scope(seeded_engine) as s:
        s.add(Student(id=1, email="ana@school.edu", cohort="c1"))
    workbook = templates.build_model("a1_drivers_map", company_ticker="TSLA", rng=random.Random(1))
    submit(seeded_engine, actor=system_actor(seeded_engine), student_id=1, activity_id="a1_drivers_map",
           company_ticker="TSLA", fileobj=io.BytesIO(workbook), filename="early.xlsx")
    with session_scope(seeded_engine) as s:
        telemetry.record_event(s, user_id=1, event_type="lesson_view", lesson="l2_revenue_drivers")
    submit(seeded_engine, actor=system_actor(seeded_engine), student_id=1, activity_id="a1_drivers_map",
           company_ticker="TSLA", fileobj=io.BytesIO(workbook), filename="ready.xlsx")
    lead = staff_actor(seeded_engine, "instructor")
    with session_scope(seeded_engine) as s:
        early = queue(s, actor=lead, filters=QueueFilters(prerequisites_met=False, latest_only=False))
        ready = queue(s, actor=lead, filters=QueueFilters(prerequisites_met=True, latest_only=False))
    assert [r["file_name"] for r in early] == ["early.xlsx"]
    assert [r["file_name"] for r in ready] == ["ready.xlsx"]


def test_a_check_parameter_reaches_the_validator(tmp_path):
    from core import validation
    from tests.feedback_fixtures import workbook_bytes

    path = tmp_path / "model.xlsx"
    path.write_bytes(workbook_bytes(revenue=[100, 110, 121, 133, 146], net_income=[10, 11, 12, 13, 14], bs_gap=3))
    strict = ActivityRules(checks=(Check("bs_balances"),))
    lenient = ActivityRules(checks=(Check("bs_balances", (("tolerance", 5.0),)),))
    assert validation.validate_path(path, rules=strict).status == "failed"
    assert validation.validate_path(path, rules=lenient).status == "passed"
