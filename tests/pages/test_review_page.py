"""The review page through AppTest: one screen per item. The queue opens on "needs
review" (an instructor's own queue), the grade form saves against the rubric and "Save
and next ungraded" moves on with a toast, exports are built only when asked, a reveal
needs a reason, and program leads read without acting."""

from __future__ import annotations

import io
import random

import pytest
from sqlalchemy import select

from core import catalogue, companies, grading, pseudonyms
from core.auth import system_actor
from core.db import make_engine, session_scope
from core.models import (
    AuditLog,
    LearningGrade,
    LearningSubmission,
    Student,
    ValidatorRun,
)
from core.submissions import submit
from core.validation import templates
from tests.support import app_test, staff_actor

SCORES = {"accuracy": 80, "documentation": 60, "presentation": 70, "reasoning": 90}


@pytest.fixture
def prepared(db_url, data_env, monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        companies.seed_curated(s)
        catalogue.seed_catalogue(s)
        s.add_all([Student(id=1, email="ana@school.edu", full_name="Ana Lima", cohort="2025A"),
                   Student(id=2, email="bo@school.edu", full_name="Bo Chen", cohort="2025A"),
                   Student(id=3, email="cy@school.edu", full_name="Cy Diaz", cohort="2025A")])
    ids = {}
    for key, student, activity, ticker, flaw in [("v1", 1, "a2_wc_debt", "TSLA", None),
                                                 ("v2", 1, "a2_wc_debt", "TSLA", "hardcoded_forecast"),
                                                 ("other", 2, "a1_drivers_map", "KO", None),
                                                 ("third", 3, "a1_drivers_map", "KO", None)]:
        data = templates.build_model(activity, company_ticker=ticker, rng=random.Random(1), flaw=flaw)
        ids[key] = submit(engine, actor=system_actor(engine), student_id=student, activity_id=activity,
                          company_ticker=ticker, fileobj=io.BytesIO(data), filename=f"{key}.xlsx").submission_id
    yield engine, ids
    engine.dispose()


def open_page(db_url, monkeypatch, role, **state):
    at = app_test(db_url, monkeypatch, role=role, page="review")
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def frame(at, *columns):
    for df in at.dataframe:
        if set(columns) <= set(df.value.columns):
            return df.value
    raise AssertionError(f"no table with columns {columns}")


def _text(at) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(s.value for s in at.subheader)


def test_opens_on_needs_review_with_progress_and_the_first_item(prepared, db_url, monkeypatch):
    engine, ids = prepared
    grading.save_grade(engine, actor=staff_actor(engine, "admin"), submission_id=ids["other"], scores=SCORES)
    at = open_page(db_url, monkeypatch, "admin")
    assert at.selectbox(key="rv_show").value == "Needs review"
    queue = frame(at, "Student", "Grade")
    assert list(queue["ID"]) == [ids["v2"], ids["third"]] and "Ana Lima" not in queue.to_string()
    assert "1 of 3 graded" in _text(at)
    assert "3: every submission these filters match, whatever its grade. Listed: the 2 that need review." in [
        c.value for c in at.caption]
    assert pseudonyms.alias(1, "admin") in _text(at)
    assert at.session_state["rv_current"] == ids["v2"]
    assert [w.split("!")[-1] for w in frame(at, "Where", "Finding")["Where"]] == ["F7"]
    assert not [b for b in at.get("download_button") if b.key in ("rv_export_csv", "rv_export_xlsx")]
    at.button(key="rv_prepare_export").click().run()
    assert {b.key for b in at.get("download_button")} >= {"rv_export_csv", "rv_export_xlsx"}


def test_instructor_defaults_to_my_queue(prepared, db_url, monkeypatch):
    engine, ids = prepared
    instructor = staff_actor(engine, "instructor")
    grading.allocate(engine, actor=staff_actor(engine, "admin"), submission_ids=[ids["third"]],
                     marker_id=instructor.id)
    at = open_page(db_url, monkeypatch, "instructor")
    assert at.toggle(key="rv_mine").value is True
    assert list(frame(at, "Student", "Grade")["ID"]) == [ids["third"]]


def test_save_and_next_ungraded_stores_the_grade_moves_on_and_confirms(prepared, db_url, monkeypatch):
    engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor", rv_mine=False)
    first = at.session_state["rv_current"]
    for criterion, score in SCORES.items():
        at.number_input(key=f"rv_score_{first}_{criterion}").set_value(float(score))
    at.text_area(key=f"rv_comment_{first}").set_value("Link opex to the assumptions.")
    at.button(key="rv_save_next").click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as s:
        grade = s.scalar(select(LearningGrade).where(LearningGrade.submission_id == first))
        assert grade.state == "graded" and float(grade.overall_score) == 77.5
    assert at.session_state["rv_current"] == ids["other"]
    assert any("Grade saved" in t.value for t in at.toast)


def test_out_of_scale_score_is_refused_where_the_user_acted(prepared, db_url, monkeypatch):
    _engine, _ids = prepared
    at = open_page(db_url, monkeypatch, "instructor", rv_mine=False)
    first = at.session_state["rv_current"]
    at.number_input(key=f"rv_score_{first}_accuracy").set_value(50.0)
    at.button(key="rv_save").click().run()
    assert any("Score documentation" in e.value for e in at.error)
    assert at.session_state["rv_current"] == first


def test_next_and_previous_follow_the_filter(prepared, db_url, monkeypatch):
    _engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor", rv_mine=False)
    at.button(key="rv_next").click().run()
    assert at.session_state["rv_current"] == ids["other"]
    at.button(key="rv_prev").click().run()
    assert at.session_state["rv_current"] == ids["v2"]
    at.selectbox(key="rv_activity").set_value("a1_drivers_map").run()
    assert list(frame(at, "Student", "Grade")["ID"]) == [ids["other"], ids["third"]]


def test_reveal_needs_a_reason_and_is_audited(prepared, db_url, monkeypatch):
    engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor", rv_mine=False)
    at.button(key="rv_reveal").click().run()
    assert any("Give a reason" in e.value for e in at.error) and "Ana Lima" not in _text(at)
    at.text_input(key=f"rv_reveal_reason_{ids['v2']}").set_value("Extension request")
    at.button(key="rv_reveal").click().run()
    assert "Ana Lima" in _text(at)
    with session_scope(engine) as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "student.reveal"))
        assert entry.details["reason"] == "Extension request"


def test_mark_reviewed_and_rerun_write_and_audit(prepared, db_url, monkeypatch):
    engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor", rv_mine=False)
    at.button(key="rv_mark").click().run()
    assert not at.exception, at.exception
    assert any("marked reviewed" in t.value for t in at.toast)
    at.button(key="rv_rerun").click().run()
    with session_scope(engine) as s:
        assert s.get(LearningSubmission, ids["v2"]).reviewed_at is not None
        assert len(s.scalars(select(ValidatorRun).where(ValidatorRun.submission_id == ids["v2"])).all()) == 2


def test_program_lead_reads_but_cannot_act(prepared, db_url, monkeypatch):
    engine, _ids = prepared
    with session_scope(engine) as s:
        audited_before = s.scalars(select(AuditLog.id)).all()
    at = open_page(db_url, monkeypatch, "program_lead")
    keys = {b.key for b in at.button}
    assert not keys & {"rv_mark", "rv_rerun", "rv_reveal", "rv_up_submit", "rv_save_next", "rv_release"}
    assert len(frame(at, "Student", "Grade")) == 3
    with session_scope(engine) as s:
        assert s.scalars(select(AuditLog.id)).all() == audited_before


def test_admin_releases_every_graded_submission_of_an_activity(prepared, db_url, monkeypatch):
    engine, ids = prepared
    grading.save_grade(engine, actor=staff_actor(engine, "admin"), submission_id=ids["other"], scores=SCORES)
    at = open_page(db_url, monkeypatch, "admin")
    assert "rv_release_all" not in {b.key for b in at.button}  # only once an activity is chosen
    at.selectbox(key="rv_activity").set_value("a1_drivers_map").run()
    at.button(key="rv_release_all").click().run()
    assert any("1 grade released" in t.value for t in at.toast)
    with session_scope(engine) as s:
        assert s.scalar(select(LearningGrade.state).where(LearningGrade.submission_id == ids["other"])) == "released"


def test_student_export_is_offered_to_admins_and_built_only_on_click(prepared, db_url, monkeypatch):
    engine, _ids = prepared
    at = open_page(db_url, monkeypatch, "admin")
    assert "rv_export" in {b.key for b in at.get("download_button")}
    at.run()  # a rerun builds nothing: the zip is made by a callable when clicked
    with session_scope(engine) as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "student.export")) is None
    instructor = open_page(db_url, monkeypatch, "instructor")
    assert "rv_export" not in {b.key for b in instructor.get("download_button")}


def test_findings_sit_beside_the_workbook_and_a_click_opens_their_sheet(prepared, db_url, monkeypatch):
    _engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor", rv_mine=False)
    assert [t.label for t in at.tabs] == ["History and diff", "Feedback", "File"]  # no Findings / Workbook tabs
    findings = frame(at, "Where", "Finding")
    sheet_of_finding = findings["Where"][0].split("!")[0]
    # The innermost columns: one holds only the findings, the one beside it the sheet's grid (columns A, B, …).
    columns = [[e.value for e in c.get("dataframe")] for c in at.columns]
    assert any(len(c) == 1 and {"Where", "Finding"} <= set(c[0].columns) for c in columns)
    assert any(len(c) == 1 and {"A", "B"} <= set(c[0].columns) for c in columns), "the grid beside the findings"
    sheet = at.selectbox(key=f"rv_sheet_{ids['v2']}")
    other = next(o for o in sheet.options if o != sheet_of_finding)
    sheet.set_value(other).run()
    assert at.selectbox(key=f"rv_sheet_{ids['v2']}").value == other
    at.session_state[f"rv_findings_{ids['v2']}"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert at.selectbox(key=f"rv_sheet_{ids['v2']}").value == sheet_of_finding


def test_clicking_a_queue_row_opens_it_and_the_choice_survives_reruns(prepared, db_url, monkeypatch):
    _engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor", rv_mine=False)
    at.session_state["rv_queue"] = {"selection": {"rows": [2], "columns": []}}
    at.run()
    assert at.session_state["rv_current"] == ids["third"]
    assert frame(at, "Student", "Grade")["Student"][2].startswith("▶ ")
    at.button(key="rv_mark").click().run()
    assert at.session_state["rv_current"] == ids["third"]
    at.button(key="rv_prev").click().run()  # navigation wins over the earlier click
    assert at.session_state["rv_current"] == ids["other"]


def test_admin_withdraws_a_released_grade_with_a_required_reason(prepared, db_url, monkeypatch):
    engine, ids = prepared
    admin = staff_actor(engine, "admin")
    grading.save_grade(engine, actor=admin, submission_id=ids["other"], scores=SCORES)
    grading.release(engine, actor=admin, submission_id=ids["other"])
    instructor = open_page(db_url, monkeypatch, "instructor", rv_mine=False, rv_show="Released")
    assert instructor.session_state["rv_current"] == ids["other"] and "rv_withdraw" not in {
        b.key for b in instructor.button}
    at = open_page(db_url, monkeypatch, "admin", rv_show="Released")
    at.button(key="rv_withdraw").click().run()
    assert any("Give a reason" in e.value for e in at.error)
    with session_scope(engine) as s:
        assert s.scalar(select(LearningGrade.state).where(LearningGrade.submission_id == ids["other"])) == "released"
    at.text_input(key=f"rv_withdraw_reason_{ids['other']}").input("Scored against the wrong rubric")
    at.button(key="rv_withdraw").click().run()
    assert not at.exception, at.exception
    assert any("Grade withdrawn" in t.value for t in at.toast)
    assert at.session_state["rv_current"] == ids["other"]  # the view stays on the item
    with session_scope(engine) as s:
        assert s.scalar(select(LearningGrade.state).where(LearningGrade.submission_id == ids["other"])) == "graded"
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "grade.withdraw"))
        assert entry.details["reason"] == "Scored against the wrong rubric"
