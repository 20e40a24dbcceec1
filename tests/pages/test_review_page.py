"""The review page through AppTest: queue and navigation, findings on the sheet, the
version diff, export, the audited reveal, and refusal of write actions for program leads."""

from __future__ import annotations

import io
import random

import pytest
from sqlalchemy import select

from core import catalogue, companies, pseudonyms
from core.auth import system_actor
from core.db import make_engine, session_scope
from core.models import AuditLog, LearningSubmission, Student, ValidatorRun
from core.submissions import submit
from core.validation import templates
from tests.support import app_test


@pytest.fixture
def prepared(db_url, data_env, monkeypatch):
    monkeypatch.setenv("NGI_FEEDBACK_ON_SUBMIT", "0")
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        companies.seed_curated(s)
        catalogue.seed_catalogue(s)
        s.add_all([Student(id=1, email="ana@school.edu", full_name="Ana Lima", cohort="2025A"),
                   Student(id=2, email="bo@school.edu", full_name="Bo Chen", cohort="2025A")])
    ids = {}
    for key, student, activity, ticker, flaw in [("v1", 1, "a2_wc_debt", "TSLA", None),
                                                 ("v2", 1, "a2_wc_debt", "TSLA", "hardcoded_forecast"),
                                                 ("other", 2, "a1_drivers_map", "KO", None)]:
        data = templates.build_model(activity, company_ticker=ticker, rng=random.Random(1), flaw=flaw)
        ids[key] = submit(engine, actor=system_actor(engine), student_id=student, activity_id=activity, company_ticker=ticker,
                          fileobj=io.BytesIO(data), filename=f"{key}.xlsx").submission_id
    yield engine, ids
    engine.dispose()


def open_page(db_url, monkeypatch, role):
    at = app_test(db_url, monkeypatch, role=role, page="review")
    at.run()
    assert not at.exception, at.exception
    return at


def frame(at, *columns):
    """The first table showing all `columns` (st.dataframe keys reach AppTest only with selections)."""
    for df in at.dataframe:
        if set(columns) <= set(df.value.columns):
            return df.value
    raise AssertionError(f"no table with columns {columns}")


def _text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_queue_detail_findings_and_navigation(prepared, db_url, monkeypatch):
    _engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor")
    queue = frame(at, "Validators", "Failed checks")
    assert list(queue["ID"]) == [ids["v2"], ids["other"]] and "Ana Lima" not in queue.to_string()
    assert at.selectbox(key="rv_pick").value == ids["v2"]
    assert pseudonyms.alias(1, "instructor") in _text(at)
    findings = frame(at, "sheet", "cell", "message")
    assert list(findings["cell"]) == ["F7"] and list(findings["sheet"]) == ["Income Statement"]
    assert at.selectbox(key="rv_sheet").value == "Income Statement"
    assert at.selectbox(key="rv_cell").value == "F7" and "(typed-in value)" in _text(at)
    assert any("one signal among others, never proof" in c.value for c in at.caption)
    at.button(key="rv_next").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="rv_pick").value == ids["other"]
    at.selectbox(key="rv_status").set_value("failed").run()
    assert list(frame(at, "Validators", "Failed checks")["ID"]) == [ids["v2"]]


def test_version_diff_and_export(prepared, db_url, monkeypatch):
    _engine, ids = prepared
    at = open_page(db_url, monkeypatch, "admin")
    assert {b.key for b in at.get("download_button")} >= {"rv_export_csv", "rv_export_xlsx", "rv_download"}
    at.selectbox(key="rv_diff_a").set_value(ids["v1"])
    at.selectbox(key="rv_diff_b").set_value(ids["v2"])
    at.button(key="rv_diff").click().run()
    assert not at.exception, at.exception
    assert "1 newly hard-coded number(s)" in _text(at)
    hard = frame(at, "old_formula", "new_value")
    assert list(hard["cell"]) == ["F7"] and list(hard["sheet"]) == ["Income Statement"]
    checks = frame(at, "check", "changed")
    changed = checks[checks["changed"]]
    assert list(changed["check"]) == ["forecast_formulas"] and list(changed["new"]) == ["failed"]


def test_student_export_is_offered_to_admins_and_built_only_on_click(prepared, db_url, monkeypatch):
    engine, _ids = prepared
    at = open_page(db_url, monkeypatch, "admin")
    assert "rv_export" in {b.key for b in at.get("download_button")}
    at.run()  # a rerun builds nothing: the zip is made by a callable when clicked
    with session_scope(engine) as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "student.export")) is None
    instructor = open_page(db_url, monkeypatch, "instructor")
    assert "rv_export" not in {b.key for b in instructor.get("download_button")}


def test_reveal_is_audited(prepared, db_url, monkeypatch):
    engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor")
    assert "Ana Lima" not in _text(at)
    at.button(key="rv_reveal").click().run()
    assert not at.exception, at.exception
    assert "Ana Lima" in _text(at)
    with session_scope(engine) as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "student.reveal"))
        assert entry.target_id == "1" and entry.details["submission_id"] == ids["v2"]


def test_mark_reviewed_and_rerun_write_and_audit(prepared, db_url, monkeypatch):
    engine, ids = prepared
    at = open_page(db_url, monkeypatch, "instructor")
    at.text_area(key=f"rv_notes_{ids['v2']}").set_value("Link opex to the assumptions.")
    at.button(key="rv_mark").click().run()
    assert not at.exception, at.exception
    at.button(key="rv_rerun").click().run()
    assert not at.exception, at.exception
    with session_scope(engine) as s:
        row = s.get(LearningSubmission, ids["v2"])
        assert row.reviewed_at is not None and row.review_notes == "Link opex to the assumptions."
        runs = s.scalars(select(ValidatorRun).where(ValidatorRun.submission_id == ids["v2"])).all()
        assert len(runs) == 2
        actions = set(s.scalars(select(AuditLog.action)))
        assert {"submission.review", "submission.revalidate"} <= actions


def test_program_lead_reads_but_cannot_act(prepared, db_url, monkeypatch):
    engine, _ids = prepared
    with session_scope(engine) as s:
        audited_before = s.scalars(select(AuditLog.id)).all()  # the fixture's uploads, by the system actor
    at = open_page(db_url, monkeypatch, "program_lead")
    keys = {b.key for b in at.button}
    assert not keys & {"rv_mark", "rv_rerun", "rv_reveal", "rv_up_submit"}
    assert any("cannot act" in i.value or "not act" in i.value for i in at.info)
    assert len(frame(at, "Validators", "Failed checks")) == 2
    with session_scope(engine) as s:
        assert s.scalars(select(AuditLog.id)).all() == audited_before
