"""One set of activity rules: the rubric, the PDF content rules and blind marking live in
`ActivityRules`, round-trip through the database, and every consumer reads the edited
rules (grading, PDF submissions, review); existing databases get them from 0015."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
import yaml
from sqlalchemy import select

from core import authoring, catalogue, content_tree, grading, review, schema
from core.auth import system_actor
from core.db import make_engine, session_scope
from core.errors import Forbidden, Invalid
from core.models import AuditLog, ContentRevision, LearningContent, Student
from core.rules import (
    ActivityRules,
    Check,
    Criterion,
    PdfContent,
    PdfRequirements,
    field_label,
)
from core.submissions import submit
from core.validation import templates
from tests.support import fresh_postgres_database, staff_actor
from tests.test_grading import add_submission

MEMO = PdfContent(300, ("thesis", "valuation", "risks", "recommendation"), True)


def _capstone() -> ActivityRules:
    rules = catalogue.activity_rules("capstone")
    assert rules is not None
    return rules


# -- the type: one rubric, PDF rules, blind marking; validation names the field ----------

def test_the_seed_rules_carry_the_rubric_pdf_rules_and_blind_flag_and_round_trip():
    rules = _capstone()
    assert rules.pdf.for_type("pdf_memo") == MEMO and rules.pdf.for_type("pdf_deck").min_words == 120
    assert rules.blind_marking is False and rules.problems() == []
    assert rules.rubric()[0] == {"criterion": "accuracy", "description": catalogue.CRITERIA["accuracy"],
                                 "weight": 0.35, "min": 0, "max": 100}
    assert ActivityRules.from_dict(rules.to_dict()) == rules
    blind = replace(rules, blind_marking=True)
    assert ActivityRules.from_dict(blind.to_dict()).blind_marking is True
    # rules without PDF content rules ask only for readable text
    assert catalogue.activity_rules("a1_drivers_map").pdf_rules("pdf_memo") is None


def test_legacy_shapes_read_the_same():
    seed_shape = {"submission_types": ["excel", "pdf_memo"], "pdf": {"pdf_memo": MEMO.to_dict()}}
    assert ActivityRules.from_dict(seed_shape).pdf.for_type("pdf_memo") == MEMO
    # before 0015 one min_words stood for every PDF
    legacy = ActivityRules.from_dict({"submission_types": ["excel", "pdf_memo", "pdf_deck"], "min_words": 250,
                                      "pdf": {"content": {"pdf_deck": {"min_words": 90}}}})
    assert [c.min_words for _, c in legacy.pdf.content] == [250, 90]


@pytest.mark.parametrize("change, path, message", [
    (dict(criteria=(Criterion("accuracy", "", 0.5), Criterion("reasoning", "", 0.3))),
     "rules.criteria", "weights add up to 80%, not 100%"),
    (dict(criteria=(Criterion("accuracy", "", 1.0, (0, 5000)),)), "rules.criteria.accuracy.scale",
     "must stay within 0–1000"),
    (dict(criteria=(Criterion("accuracy", "", 1.0, (5, 5)),)), "rules.criteria.accuracy.scale", "is empty"),
    (dict(pdf=PdfRequirements(content=(("pdf_memo", PdfContent(300, ("thesis", "appendix"))),))),
     "rules.pdf.content.pdf_memo.sections[1]", "unknown section 'appendix'"),
    (dict(pdf=PdfRequirements(content=(("pdf_memo", PdfContent(-1)),))), "rules.pdf.content.pdf_memo.min_words",
     "from 0 to 100000"),
    (dict(submission_types=("excel",)), "rules.pdf.content.pdf_memo", "not an accepted submission type"),
    (dict(pdf=PdfRequirements(content=(("pdf_poster", PdfContent()),))), "rules.pdf.content.pdf_poster",
     "not a PDF submission type"),
    (dict(checks=(Check("spell_check"),)), "rules.checks[0]", "unknown check 'spell_check'"),
])
def test_problems_are_named_with_their_field_path(change, path, message):
    base = replace(_capstone(), pdf=PdfRequirements(content=(("pdf_memo", MEMO),)))
    problems = replace(base, **change).problems()
    assert any(p == path and message in m for p, m in problems), problems


def test_an_import_names_rules_fields_it_would_otherwise_drop():
    from core import curriculum

    rules = {**_capstone().to_dict(), "blind_markng": True}
    rules["pdf"]["content"]["pdf_memo"]["sectons"] = ["risks"]
    doc = {"format": 1, "modules": [{"key": "m", "type": "module", "title": "M", "children": [
        {"key": "u", "type": "unit", "title": "U", "children": [
            {"key": "a", "type": "activity", "title": "A", "rules": rules}]}]}]}
    text = yaml.safe_dump(doc)
    _, problems = curriculum.parse(text)
    where = "modules[0].children[0].children[0] (a).rules"
    assert (where, "unknown field(s) blind_markng") in problems
    assert (f"{where}.pdf.content.pdf_memo", "unknown field(s) sectons") in problems
    assert curriculum.parse(text.replace("blind_markng", "blind_marking").replace("sectons", "sections"))[1] == []


def test_field_labels_name_the_editor_field():
    assert field_label("capstone.rules.pdf.content.pdf_memo.min_words") == "Memo PDF"
    assert field_label("capstone.rules.criteria.accuracy.scale") == "Rubric criterion accuracy"
    assert field_label("capstone.rules.criteria") == "Rubric criteria"
    assert field_label("rules.pdf.min_pages") == "PDF minimum pages"


# -- an admin edits the rules; every consumer follows (both engines) ---------------------

@pytest.fixture
def edited(seeded_engine, data_env, monkeypatch):
    """The capstone with a two-criterion rubric, a longer memo and blind marking on."""
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    admin = staff_actor(seeded_engine, "admin")
    rules = replace(_capstone(), blind_marking=True,
                    criteria=(Criterion("accuracy", "Ties out.", 0.6, (0, 10)),
                              Criterion("reasoning", "Defends the target.", 0.4, (0, 10))),
                    pdf=PdfRequirements(content=(("pdf_memo", replace(MEMO, min_words=1000)),)))
    authoring.set_rules(seeded_engine, actor=admin, key="capstone", rules=rules)
    return seeded_engine, rules


def test_the_edit_is_stored_audited_and_read_back_whole(edited):
    engine, rules = edited
    with session_scope(engine) as s:
        assert content_tree.current(s).rules("capstone") == rules
        details = s.scalar(select(AuditLog.details).where(AuditLog.action == "content.rules"))
    assert details["rules_changed"] == ["blind_marking", "criteria", "pdf"]


def test_grading_scores_against_the_edited_rubric(edited):
    engine, _ = edited
    with session_scope(engine) as s:
        sub = add_submission(s, 1, "capstone")
    marker = staff_actor(engine, "instructor")
    with pytest.raises(Invalid, match="documentation is not a criterion"):
        grading.save_grade(engine, actor=marker, submission_id=sub, scores={"documentation": 5})
    with pytest.raises(Invalid, match="between 0 and 10"):
        grading.save_grade(engine, actor=marker, submission_id=sub, scores={"accuracy": 60, "reasoning": 5})
    saved = grading.save_grade(engine, actor=marker, submission_id=sub, scores={"accuracy": 10, "reasoning": 5})
    assert saved["overall_score"] == pytest.approx(80.0)  # 60% × 100 + 40% × 50
    with session_scope(engine) as s:
        sheet = grading.grade_sheet(s, actor=marker, submission_id=sub)
    assert [(c["criterion"], c["max"]) for c in sheet["rubric"]] == [("accuracy", 10), ("reasoning", 10)]


def test_a_pdf_memo_is_checked_with_the_edited_rules(edited):
    engine, rules = edited
    with session_scope(engine) as s:
        s.add(Student(id=1, email="ana@school.edu", full_name="Ana Lima"))
    memo = templates.build_memo_pdf(templates.memo_paragraphs("Tesla", price_target=182.5))  # ~370 words

    def send():
        return submit(engine, actor=system_actor(engine), student_id=1, activity_id="capstone",
                      company_ticker="TSLA", fileobj=io.BytesIO(memo), filename="memo.pdf",
                      submission_type="pdf_memo")

    result = send()
    failed = [c for c in result.report["checks"] if c["status"] == "failed"]
    assert result.status == "failed" and [c["id"] for c in failed] == ["pdf_word_count"]
    assert "at least 1000" in failed[0]["findings"][0]["message"]
    # back to 300 words: the same memo passes, its price target found
    authoring.set_rules(engine, actor=staff_actor(engine, "admin"), key="capstone",
                        rules=replace(rules, pdf=PdfRequirements(content=(("pdf_memo", MEMO),))))
    assert send().status == "passed"


def test_review_hides_the_student_of_a_blind_activity(edited):
    engine, _ = edited
    with session_scope(engine) as s:
        sub = add_submission(s, 1, "capstone")
    marker = staff_actor(engine, "instructor")
    with session_scope(engine) as s:
        assert review.detail(s, actor=marker, submission_id=sub)["student_id"] is None
    with pytest.raises(Forbidden, match="marked blind"):
        review.reveal_identity(engine, actor=marker, submission_id=sub, reason="Extension request")


def test_a_revision_restores_the_rules_it_recorded(edited):
    engine, rules = edited
    admin = staff_actor(engine, "admin")
    with session_scope(engine) as s:
        revision = s.scalar(select(ContentRevision.id).where(ContentRevision.action == "content.rules"))
    authoring.set_rules(engine, actor=admin, key="capstone", rules=_capstone())
    authoring.restore_revision(engine, actor=admin, revision_id=revision)
    with session_scope(engine) as s:
        assert content_tree.current(s).rules("capstone") == rules


# -- existing databases: 0015 fills what rules rows lack, from the seed -----------------

@pytest.fixture(params=["sqlite", "postgres"])
def at_0014(request, tmp_path):
    def make(url):
        engine = make_engine(url)
        schema.upgrade(engine, "0014")
        return engine

    if request.param == "sqlite":
        engine = make(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
    else:
        with fresh_postgres_database("ngi_rules0015") as url:
            engine = make(url)
            yield engine
            engine.dispose()


def test_migration_0015_fills_pdf_rules_and_blind_marking_from_the_seed(at_0014):
    engine = at_0014
    # the rules as 0014-era code stored them: no PDF content rules, no blind flag
    old = {**_capstone().to_dict(), "pdf": {"required": [], "min_pages": 0, "max_pages": None}, "min_words": 0}
    del old["blind_marking"]
    edited = {**old, "submission_types": ["excel"], "blind_marking": True}  # written after 0015: left alone
    with session_scope(engine) as s:
        s.add_all([LearningContent(content_key="capstone", content_type="activity", title="Capstone",
                                   sequence_order=1, rubric_criteria=old),
                   LearningContent(content_key="later", content_type="activity", title="Later",
                                   sequence_order=2, rubric_criteria=edited),
                   ContentRevision(content_key="capstone", action="content.rules", before=None,
                                   after={"type": "activity", "rules": old})])
    schema.upgrade(engine)
    with session_scope(engine) as s:
        tree = content_tree.current(s)
        assert tree.rules("capstone") == _capstone()
        assert tree.rules("later") == ActivityRules.from_dict(edited)
        after = s.scalar(select(ContentRevision.after))
    assert ActivityRules.from_dict(after["rules"]) == _capstone()
