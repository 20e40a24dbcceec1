"""Content page: the tree for every role; admins publish and edit, which changes the
database and writes an audit row; others get no edit controls."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import make_engine, session_scope
from core.models import AuditLog, LearningContent
from tests.pages.demo_cohort import demo_database
from tests.support import app_test


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_db(request, tmp_path_factory):
    return demo_database(request, tmp_path_factory)


def _open(url, monkeypatch, role):
    at = app_test(url, monkeypatch, role=role, page="content")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _row(url, key):
    engine = make_engine(url)
    with session_scope(engine) as session:
        row = session.scalar(select(LearningContent).where(LearningContent.content_key == key))
        audits = session.execute(select(AuditLog.action, AuditLog.actor_email)
                                 .where(AuditLog.target_id == key)).all()
        result = (row.is_published, row.title, [tuple(a) for a in audits])
    engine.dispose()
    return result


@pytest.mark.parametrize("role", ["instructor", "program_lead"])
def test_tree_shows_every_item_and_no_edit_controls_for_non_admins(demo_db, monkeypatch, role):
    at = _open(demo_db.url, monkeypatch, role)
    tree = at.dataframe[0].value
    assert len(tree) == 19 and list(tree["type"][:3]) == ["Module", "Unit", "Lesson"]
    assert set(tree["status"]) == {"Published"}
    assert not [b for b in at.button if b.key in ("content_publish", "content_unpublish")]
    assert any("Only admins" in c.value for c in at.caption)
    # The description is on screen, the internal key is not.
    shown = list(at.dataframe[0].proto.column_order)
    assert "description" in shown and "key" not in shown


def test_admin_unpublishes_and_republishes_with_audit_rows(demo_db, monkeypatch):
    at = _open(demo_db.url, monkeypatch, "admin")
    at.selectbox(key="content_item").select("capstone").run()
    at.button(key="content_unpublish").click().run()
    assert not at.exception, [e.value for e in at.exception]
    # the capstone has students' submissions: the page says so and waits for a confirm
    assert any("submission" in w.value for w in at.warning), [w.value for w in at.warning]
    assert _row(demo_db.url, "capstone")[0] is True
    at.button(key="content_confirm_yes").click().run()
    published, _, audits = _row(demo_db.url, "capstone")
    assert published is False and audits == [("content.unpublish", "admin@test.ngi")]
    assert any("is now a draft" in s.value for s in at.success)
    tree = at.dataframe[0].value
    assert tree.loc[tree["key"] == "capstone", "status"].item() == "Draft"

    at.button(key="content_publish").click().run()
    published, _, audits = _row(demo_db.url, "capstone")
    assert published is True and [a[0] for a in audits] == ["content.unpublish", "content.publish"]


def test_admin_edits_a_title_and_an_empty_title_is_refused(demo_db, monkeypatch):
    at = _open(demo_db.url, monkeypatch, "admin")
    at.selectbox(key="content_item").select("l9_comparables").run()
    at.text_input(key="title_l9_comparables").input("")
    at.button(key="content_save").click().run()
    assert any("cannot be empty" in e.value for e in at.error)
    assert _row(demo_db.url, "l9_comparables")[1] == "Trading comparables"

    at.text_input(key="title_l9_comparables").input("Comparable companies")
    at.button(key="content_save").click().run()
    _, title, audits = _row(demo_db.url, "l9_comparables")
    assert title == "Comparable companies" and audits == [("content.edit", "admin@test.ngi")]


def test_empty_database_shows_a_hint(sqlite_url, monkeypatch):
    at = _open(sqlite_url, monkeypatch, "instructor")
    assert any("ngi seed" in i.value for i in at.info)


def test_admin_creates_a_lesson_and_a_bad_key_is_refused(demo_db, monkeypatch):
    at = _open(demo_db.url, monkeypatch, "admin")
    at.selectbox(key="content_new_type").select("lesson").run()
    at.selectbox(key="content_new_parent").select("unit_4_valuation")
    at.text_input(key="content_new_title").input("Leveraged buyouts")
    at.text_input(key="content_new_key").input("Bad Key")
    at.button[[b.label for b in at.button].index("Create as draft")].click().run()
    assert any("lower-case" in e.value for e in at.error), [e.value for e in at.error]
    at.text_input(key="content_new_key").input("l10_lbo")
    at.button[[b.label for b in at.button].index("Create as draft")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    tree = at.dataframe[0].value
    assert tree.loc[tree["key"] == "l10_lbo", "status"].item() == "Draft"
    published, title, audits = _row(demo_db.url, "l10_lbo")
    assert (published, title, audits) == (False, "Leveraged buyouts", [("content.create", "admin@test.ngi")])


def test_rules_editor_refuses_weights_that_do_not_make_100(demo_db, monkeypatch):
    at = _open(demo_db.url, monkeypatch, "admin")
    at.selectbox(key="content_item").select("a1_drivers_map").run()
    editor_key = "rules_criteria_a1_drivers_map"
    at.session_state[editor_key] = {"edited_rows": {0: {"weight": 10}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert any("70% (they must make 100%)" in e.value for e in at.error), [e.value for e in at.error]
    at.button(key="content_save_rules").click().run()
    assert any("Rubric criteria: weights add up to 70%, not 100%" in e.value for e in at.error), \
        [e.value for e in at.error]


def _rules(url, key):
    from core.rules import ActivityRules

    engine = make_engine(url)
    with session_scope(engine) as session:
        row = session.scalar(select(LearningContent).where(LearningContent.content_key == key))
        rules = ActivityRules.from_dict(row.rubric_criteria)
        audits = session.scalars(select(AuditLog.details).where(AuditLog.target_id == key,
                                                                 AuditLog.action == "content.rules")).all()
    engine.dispose()
    return rules, audits


def test_rules_editor_sets_memo_requirements_and_blind_marking_and_names_a_bad_field(demo_db, monkeypatch):
    at = _open(demo_db.url, monkeypatch, "admin")
    at.selectbox(key="content_item").select("a2_wc_debt").run()
    assert at.toggle(key="rules_blind_a2_wc_debt").value is False
    assert not [n for n in at.number_input if n.key == "rules_words_a2_wc_debt_pdf_memo"]
    # accepting a memo opens its requirements
    at.multiselect(key="rules_types_a2_wc_debt").select("pdf_memo").run()
    at.number_input(key="rules_words_a2_wc_debt_pdf_memo").set_value(500)
    at.multiselect(key="rules_sections_a2_wc_debt_pdf_memo").select("thesis").select("risks")
    at.checkbox(key="rules_price_a2_wc_debt_pdf_memo").check()
    at.toggle(key="rules_blind_a2_wc_debt").set_value(True)
    # a scale past 1000 points is refused, the field named, and nothing is saved
    at.session_state["rules_criteria_a2_wc_debt"] = {"edited_rows": {0: {"high": 5000}}, "added_rows": [],
                                                     "deleted_rows": []}
    at.run()
    at.button(key="content_save_rules").click().run()
    assert any("Rubric criterion accuracy: scale 0–5000 must stay within 0–1000" in e.value for e in at.error), \
        [e.value for e in at.error]
    assert _rules(demo_db.url, "a2_wc_debt")[0].blind_marking is False
    at.session_state["rules_criteria_a2_wc_debt"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="content_save_rules").click().run()
    assert not at.exception and any("Rules saved" in s.value for s in at.success), [e.value for e in at.error]
    rules, audits = _rules(demo_db.url, "a2_wc_debt")
    assert rules.blind_marking and rules.submission_types == ("excel", "pdf_memo")
    memo = rules.pdf.for_type("pdf_memo")
    assert (memo.min_words, memo.sections, memo.price_target) == (500, ("thesis", "risks"), True)
    assert audits[-1]["rules_changed"] == ["blind_marking", "pdf", "submission_types"]
    assert at.toggle(key="rules_blind_a2_wc_debt").value is True


def test_a_prerequisite_cycle_is_refused_on_the_page_and_history_restores(demo_db, monkeypatch):
    at = _open(demo_db.url, monkeypatch, "admin")
    at.selectbox(key="content_item").select("l1_business_model").run()
    at.multiselect(key="prereq_l1_business_model").select("l2_revenue_drivers")
    at.button(key="content_save_prereq").click().run()
    assert any("cycle: What a business model is → Revenue drivers" in e.value or
               "cycle: Revenue drivers: Q × P × T → What a business model is" in e.value for e in at.error), \
        [e.value for e in at.error]
    at.text_input(key="title_l1_business_model").input("Business models")
    at.button(key="content_save").click().run()
    at.selectbox(key="content_item").select("l1_business_model").run()
    history = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert list(history["action"]) == ["content.edit"]
