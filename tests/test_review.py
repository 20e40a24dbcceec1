"""The review workflow in core: blind queue, filters, audited reveal and actions, diff, export."""

from __future__ import annotations

import csv
import io
import random

import openpyxl
import pytest
from sqlalchemy import func, select

from core import pseudonyms, review
from core.auth import system_actor
from core.db import session_scope
from core.errors import Forbidden, Invalid
from core.models import AuditLog, LearningSubmission, Student, ValidatorRun
from core.submissions import submit
from core.validation import templates
from tests.support import staff_actor


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")


@pytest.fixture
def env(seeded_engine, data_env):
    with session_scope(seeded_engine) as s:
        s.add_all([Student(id=1, email="ana@school.edu", full_name="Ana Lima", cohort="2025A"),
                   Student(id=2, email="bo@school.edu", full_name="Bo Chen", cohort="2025B")])
    eng = seeded_engine

    def add(student, activity, ticker, flaw=None, seed=1, name="model.xlsx", notes=None):
        data = templates.build_model(activity, company_ticker=ticker, rng=random.Random(seed), flaw=flaw)
        return submit(eng, actor=system_actor(eng), student_id=student, activity_id=activity, company_ticker=ticker,
                      fileobj=io.BytesIO(data), filename=name, notes=notes)

    v1 = add(1, "a2_wc_debt", "TSLA")
    v2 = add(1, "a2_wc_debt", "TSLA", flaw="hardcoded_forecast")
    other = add(2, "a1_drivers_map", "KO", flaw="revenue_mismatch", name="drivers.xlsx")
    return eng, {"v1": v1.submission_id, "v2": v2.submission_id, "other": other.submission_id}


def test_queue_is_blind_filtered_and_latest_only(env):
    eng, ids = env
    instructor = staff_actor(eng, "instructor")
    with session_scope(eng) as s:
        rows = review.queue(s, actor=instructor)
        assert [r["id"] for r in rows] == [ids["v2"], ids["other"]]
        assert all("Ana Lima" not in str(r) and "Bo Chen" not in str(r) for r in rows)
        assert rows[0]["student"] == pseudonyms.alias(1, "instructor")
        failed = review.queue(s, actor=instructor, filters=review.QueueFilters(status="failed", company="ko"))
        assert [r["id"] for r in failed] == [ids["other"]] and failed[0]["failed_checks"] == "revenue_build"
        everything = review.queue(s, actor=instructor, filters=review.QueueFilters(latest_only=False, cohort="2025A"))
        assert [r["version"] for r in everything] == [1, 2]
        assert review.awaiting_review_count(s, actor=instructor) == 2


def test_reveal_and_mark_reviewed_are_audited_and_refused_for_program_leads(env):
    eng, ids = env
    instructor, lead = staff_actor(eng, "instructor"), staff_actor(eng, "program_lead")
    assert review.reveal_identity(eng, actor=instructor, submission_id=ids["v2"], reason="Extension request")["name"] == "Ana Lima"
    review.mark_reviewed(eng, actor=instructor, submission_id=ids["v2"], notes="Opex is typed in for FY2026E.")
    with session_scope(eng) as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.actor_id == instructor.id).order_by(AuditLog.id)).all()
        assert actions == ["student.reveal", "submission.review"]
        row = s.get(LearningSubmission, ids["v2"])
        assert row.reviewed_by == instructor.id and row.review_notes.startswith("Opex")
        assert review.awaiting_review_count(s, actor=instructor) == 1
        assert review.queue(s, actor=instructor, filters=review.QueueFilters(reviewed=False))[0]["id"] == ids["other"]
    with pytest.raises(Forbidden):
        review.reveal_identity(eng, actor=lead, submission_id=ids["v2"], reason="Extension request")
    with pytest.raises(Forbidden):
        review.mark_reviewed(eng, actor=lead, submission_id=ids["v2"])
    with pytest.raises(Forbidden):
        review.rerun_validators(eng, actor=lead, submission_id=ids["v2"])


def test_rerun_records_a_new_validator_run(env):
    eng, ids = env
    instructor = staff_actor(eng, "instructor")
    report = review.rerun_validators(eng, actor=instructor, submission_id=ids["other"])
    assert report.status == "failed"
    with session_scope(eng) as s:
        runs = s.scalars(select(ValidatorRun).where(ValidatorRun.submission_id == ids["other"])
                         .order_by(ValidatorRun.id)).all()
        assert len(runs) == 2 and runs[1].run_by == instructor.id
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "submission.revalidate")) == 1
        detail = review.detail(s, actor=instructor, submission_id=ids["other"])
        assert detail["runs"][0]["run_by"] == "Test instructor"
        assert detail["student"] == pseudonyms.alias(2, "instructor")


def test_diff_shows_new_hardcode_and_changed_check(env):
    eng, ids = env
    instructor = staff_actor(eng, "instructor")
    with session_scope(eng) as s:
        diff = review.diff_versions(s, actor=instructor, a_id=ids["v2"], b_id=ids["v1"])  # order does not matter
    assert (diff["old"]["id"], diff["new"]["id"]) == (ids["v1"], ids["v2"])
    assert [(d["sheet"], d["cell"], d["old_formula"]) for d in diff["new_hardcoded"]] == [
        ("Income Statement", "F7", "=F4*'Assumptions'!F5")]
    changed = {c["check"]: (c["old"], c["new"]) for c in diff["checks"] if c["changed"]}
    assert changed == {"forecast_formulas": ("passed", "failed")}
    assert diff["added_sheets"] == [] and diff["removed_sheets"] == []


def test_diff_lists_added_and_removed_sheets_and_changed_formulas(env):
    eng, ids = env
    instructor = staff_actor(eng, "instructor")
    data = templates.build_model("a2_wc_debt", company_ticker="TSLA", rng=random.Random(1), flaw="missing_sheet")
    v3 = submit(eng, actor=system_actor(eng), student_id=1, activity_id="a2_wc_debt", company_ticker="TSLA", fileobj=io.BytesIO(data),
                filename="v3.xlsx").submission_id
    data = templates.build_model("a2_wc_debt", company_ticker="TSLA", rng=random.Random(1), flaw="cash_mismatch")
    v4 = submit(eng, actor=system_actor(eng), student_id=1, activity_id="a2_wc_debt", company_ticker="TSLA", fileobj=io.BytesIO(data),
                filename="v4.xlsx").submission_id
    with session_scope(eng) as s:
        renamed = review.diff_versions(s, actor=instructor, a_id=ids["v1"], b_id=v3)
        tie = review.diff_versions(s, actor=instructor, a_id=ids["v1"], b_id=v4)
    assert renamed["added_sheets"] == ["Sheet5"] and renamed["removed_sheets"] == ["Cash Flow"]
    formula_cells = {(c["sheet"], c["cell"]) for c in tie["changed_formulas"]}
    assert formula_cells == {("Cash Flow", "F16")}
    assert tie["counts"]["changed_values"] > 0


def test_diff_refuses_other_students_work(env):
    eng, ids = env
    with session_scope(eng) as s, pytest.raises(Invalid, match="same student"):
        review.diff_versions(s, actor=staff_actor(eng, "admin"), a_id=ids["v1"], b_id=ids["other"])


def test_sheet_view_highlights_finding_cells(env):
    eng, ids = env
    with session_scope(eng) as s:
        view = review.sheet_view(s, actor=staff_actor(eng, "instructor"), submission_id=ids["v2"], sheet="Income Statement")
    assert view["flagged"].keys() == {"F7"}
    grid = view["grid"]
    row, col = grid["index"].index(7), grid["columns"].index("F")
    assert isinstance(grid["values"][row][col], float) and grid["formulas"][row][col] is None
    assert grid["formulas"][row][col - 1].startswith("=")


def test_exports_write_formula_like_text_as_text(env):
    eng, _ids = env
    with session_scope(eng) as s:
        rows = review.queue(s, actor=staff_actor(eng, "instructor"))
    rows[0]["review_notes"] = "+1 cmd|' /C calc'!A0"
    rows[1]["review_notes"] = "=HYPERLINK(\"http://evil\")"
    rows[1]["file_name"] = "\tindented.xlsx"
    text = review.to_csv(rows).decode("utf-8-sig")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[0]["review_notes"].startswith("'+1") and parsed[1]["review_notes"].startswith("'=HYPERLINK")
    assert parsed[1]["file_name"] == "'\tindented.xlsx" and parsed[0]["file_name"] == "model.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(review.to_xlsx(rows)))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=3, column=header.index("review_notes") + 1)
    assert cell.value == '=HYPERLINK("http://evil")' and cell.data_type == "s"
    assert sheet.cell(row=2, column=header.index("version") + 1).value == 2


def test_upload_on_behalf_is_audited_and_needs_review_act(env):
    eng, _ids = env
    instructor, lead = staff_actor(eng, "instructor"), staff_actor(eng, "program_lead")
    data = templates.build_model("a1_drivers_map", company_ticker="KO", rng=random.Random(3))
    with pytest.raises(Forbidden):
        review.upload_on_behalf(eng, actor=lead, student_id=2, activity_id="a1_drivers_map", company_ticker="KO",
                                fileobj=io.BytesIO(data), filename="emailed.xlsx")
    result = review.upload_on_behalf(eng, actor=instructor, student_id=2, activity_id="a1_drivers_map",
                                     company_ticker="KO", fileobj=io.BytesIO(data), filename="emailed.xlsx",
                                     notes="Sent by email after the portal outage.")
    assert (result.version, result.status) == (2, "passed")
    with session_scope(eng) as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "submission.upload_on_behalf")
                         .order_by(AuditLog.id.desc()).limit(1))
        assert entry.actor_id == instructor.id and entry.target_id == str(result.submission_id)
        assert s.scalar(select(ValidatorRun.run_by).where(ValidatorRun.submission_id == result.submission_id)) \
            == instructor.id


def test_date_filters_bound_the_queue(env):
    from datetime import datetime, timedelta

    from core.config import program_timezone

    eng, _ids = env
    instructor = staff_actor(eng, "instructor")
    today = datetime.now(program_timezone()).date()
    with session_scope(eng) as s:
        assert len(review.queue(s, actor=instructor, filters=review.QueueFilters(since=today, until=today))) == 2
        assert review.queue(s, actor=instructor, filters=review.QueueFilters(since=today + timedelta(days=1))) == []
        assert review.queue(s, actor=instructor, filters=review.QueueFilters(until=today - timedelta(days=1))) == []


REPORT_SHAPE = {"status": "failed", "checks": [
    {"id": "bs_balances", "status": "failed", "findings": [
        {"sheet": "Balance Sheet", "cell": "C40", "period": "FY2026E", "message": "Assets ≠ liabilities + equity",
         "expected": 10, "actual": 12}]},
    {"id": "cash_ties", "status": "passed", "findings": []}], "outputs": {}}


def test_queue_reads_a_row_holding_the_whole_report_instead_of_the_flat_list(env):
    """Rows the analytics benchmark wrote hold the report object; the queue raised
    AttributeError on them ('str' object has no attribute 'get')."""
    eng, ids = env
    with eng.begin() as conn:  # bypass the ORM, as the benchmark's bulk insert did
        conn.execute(LearningSubmission.__table__.update().where(LearningSubmission.id == ids["other"])
                     .values(validator_errors=REPORT_SHAPE))
    with session_scope(eng) as s:
        rows = review.queue(s, actor=staff_actor(eng, "instructor"))
    assert {r["id"]: r["failed_checks"] for r in rows}[ids["other"]] == "bs_balances"


def test_validator_errors_are_stored_flat_whatever_a_writer_hands_over(env):
    eng, ids = env
    with session_scope(eng) as s:
        s.get(LearningSubmission, ids["other"]).validator_errors = REPORT_SHAPE
    with session_scope(eng) as s:
        stored = s.get(LearningSubmission, ids["other"]).validator_errors
    assert isinstance(stored, list) and stored[0]["check"] == "bs_balances" and stored[0]["cell"] == "C40"


def test_migration_0012_rewrites_report_shaped_rows_to_the_flat_list(db_url):
    from core import schema
    from core.db import make_engine

    eng = make_engine(db_url)
    try:
        schema.downgrade(eng, "0008")
        with eng.begin() as conn:
            conn.execute(Student.__table__.insert().values(id=9, email="m@school.edu"))
            conn.exec_driver_sql("INSERT INTO learning_companies (id, ticker, company_name) "
                                 "VALUES (99, 'ZZZ', 'Zed')")
            conn.execute(LearningSubmission.__table__.insert().values(
                id=99, user_id=9, company_id=99, activity_id="a2_wc_debt", module="accounting_i",
                submission_type="excel", version=1, file_path="k", file_name="m.xlsx", validator_errors=REPORT_SHAPE))
        schema.upgrade(eng)
        with eng.connect() as conn:
            stored = conn.execute(select(LearningSubmission.__table__.c.validator_errors)
                                  .where(LearningSubmission.__table__.c.id == 99)).scalar_one()
        assert stored == [{"check": "bs_balances", "sheet": "Balance Sheet", "cell": "C40", "period": "FY2026E",
                           "message": "Assets ≠ liabilities + equity", "expected": 10, "actual": 12}]
    finally:
        eng.dispose()


def test_reveal_needs_a_reason_is_audited_with_it_and_is_off_for_a_blind_activity(env):
    from dataclasses import replace

    from core import authoring, content_tree

    eng, ids = env
    instructor, admin = staff_actor(eng, "instructor"), staff_actor(eng, "admin")
    with pytest.raises(Invalid, match="Give a reason"):
        review.reveal_identity(eng, actor=instructor, submission_id=ids["v2"], reason="  ")
    review.reveal_identity(eng, actor=instructor, submission_id=ids["v2"], reason="Late-work extension")
    with session_scope(eng) as s:
        assert review.detail(s, actor=instructor, submission_id=ids["v2"])["student_id"] == 1
        details = s.scalar(select(AuditLog.details).where(AuditLog.action == "student.reveal"))
        assert details["reason"] == "Late-work extension"
        rules = content_tree.current(s).rules("a2_wc_debt")
    # an admin turns blind marking on in the activity's rules: the review page hides who it is
    authoring.set_rules(eng, actor=admin, key="a2_wc_debt", rules=replace(rules, blind_marking=True))
    with pytest.raises(Forbidden, match="marked blind"):
        review.reveal_identity(eng, actor=instructor, submission_id=ids["v2"], reason="Late-work extension")
    with session_scope(eng) as s:
        shown = review.detail(s, actor=instructor, submission_id=ids["v2"])
        assert shown["blind_marking"] and shown["student_id"] is None
        assert "Ana Lima" not in str(shown) and "ana@school.edu" not in str(shown)
        rows = {r["id"]: r for r in review.queue(s, actor=instructor)}
        assert rows[ids["v2"]]["student_id"] is None and rows[ids["other"]]["student_id"] == 2
    assert review.reveal_identity(eng, actor=instructor, submission_id=ids["other"], reason="Extension")["name"]


def test_queue_filters_by_grade_state_and_marker_pages_and_counts_progress(env):
    from core import grading

    eng, ids = env
    admin, instructor = staff_actor(eng, "admin"), staff_actor(eng, "instructor")
    grading.save_grade(eng, actor=instructor, submission_id=ids["v2"],
                       scores={"accuracy": 70, "documentation": 70, "presentation": 70, "reasoning": 70})
    grading.allocate(eng, actor=admin, submission_ids=[ids["other"]], marker_id=instructor.id)
    needs = review.QueueFilters(grade_state="needs_review")
    with session_scope(eng) as s:
        assert review.queue_ids(s, actor=instructor, filters=needs) == [ids["other"]]
        assert review.queue_progress(s, actor=instructor) == {"total": 2, "graded": 1}
        mine = review.QueueFilters(allocated_to=instructor.id)
        assert [r["id"] for r in review.queue(s, actor=instructor, filters=mine)] == [ids["other"]]
        page = review.queue(s, actor=instructor, limit=1, offset=1)
        assert [r["id"] for r in page] == [ids["other"]] and page[0]["grade_state"] == "not_started"
        assert review.queue(s, actor=instructor, limit=1)[0]["grade"] == 70.0


def test_downloads_have_unique_blind_names_and_download_all_zips_the_filter(env):
    import zipfile

    from core import submission_files

    eng, ids = env
    instructor = staff_actor(eng, "instructor")
    with session_scope(eng) as s:
        name, data = submission_files.file_for_download(s, actor=instructor, submission_id=ids["v2"])
        alias = pseudonyms.alias(1, "instructor").replace(" ", "_")
        assert name == f"{alias}_a2_wc_debt_v2_s{ids['v2']}.xlsx" and data[:2] == b"PK"
        result = submission_files.zip_submissions(s, actor=instructor, submission_ids=[ids["v1"], ids["v2"]])
    try:
        with zipfile.ZipFile(result["path"]) as archive:
            names = archive.namelist()
        assert result["files"] == 2 and len(set(names)) == 2 and all("Lima" not in n for n in names)
    finally:
        result["path"].unlink()
