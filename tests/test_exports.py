"""No export staff download can carry a formula: every CSV and Excel file goes through
core.exports, and hostile names, cohorts, notes and file names come out as text."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl
import pytest

from core import analytics, exports, review
from core.db import session_scope
from core.models import LearningCompany, LearningProgress, LearningSubmission, Student
from tests.support import staff_actor

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
           "\t=1+1", "\r=1+1"]
TODAY = date(2026, 11, 20)


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def _xlsx_cells(data: bytes) -> list:
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    return [cell for row in ws.iter_rows() for cell in row if cell.value is not None]


def _no_formula_text(cells: list) -> None:
    assert cells
    bad = [c for c in cells if isinstance(c, str) and c.startswith(exports.FORMULA_STARTS)]
    assert not bad, bad


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like_text_is_neutralised_and_the_rest_left_alone(text):
    assert exports.neutralise(text) == "'" + text
    assert exports.neutralise("Ana Lima") == "Ana Lima" and exports.neutralise(-3.5) == -3.5


@pytest.fixture
def hostile(engine):
    """Students whose names and cohorts, and a submission whose file name and review
    notes, start like formulas."""
    with session_scope(engine) as session:
        company = LearningCompany(ticker="KO", company_name="Coca-Cola")
        session.add(company)
        session.flush()
        for n, text in enumerate(HOSTILE):
            student = Student(email=f"h{n}@example.edu", full_name=text, cohort=text)
            session.add(student)
            session.flush()
            session.add(LearningProgress(user_id=student.id, last_activity_date=TODAY - timedelta(days=9),
                                         completion_percentage=20))
            session.add(LearningSubmission(
                user_id=student.id, company_id=company.id, activity_id="a1_drivers_map", module="m",
                submission_type="excel", version=1, is_latest=True, file_path=f"submissions/{student.id}/x.xlsx",
                file_name=f"{text}.xlsx", review_notes=text, validator_status="passed"))
    return engine


@pytest.mark.parametrize("role", ["admin", "instructor"])
def test_at_risk_csv_writes_hostile_names_and_cohorts_as_text(hostile, role):
    actor = staff_actor(hostile, role)
    with session_scope(hostile) as session:
        data = analytics.at_risk_csv(session, actor=actor, on=TODAY)
    cells = _csv_cells(data)
    _no_formula_text(cells)
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells  # the cohort (and the admin's name column)
    assert "'@SUM(1,2)" in cells


def test_review_exports_write_hostile_cells_as_text(hostile):
    instructor = staff_actor(hostile, "instructor")
    with session_scope(hostile) as session:
        rows = review.queue(session, actor=instructor)
    assert len(rows) == len(HOSTILE)
    csv_cells = _csv_cells(review.to_csv(rows))
    _no_formula_text(csv_cells)
    assert "'-2+3" in csv_cells and "'-2+3.xlsx" in csv_cells
    # Excel: stored as text cells (never formulas), exactly as typed.
    xlsx = _xlsx_cells(review.to_xlsx(rows))
    assert all(c.data_type in ("s", "n") for c in xlsx)
    assert "@SUM(1,2).xlsx" in [c.value for c in xlsx]


def test_exports_keep_numbers_dates_and_gaps():
    rows = [{"n": 3, "x": -1.5, "d": date(2026, 1, 2), "missing": None, "nan": float("nan")}]
    assert _csv_cells(exports.to_csv(rows))[5:] == ["3", "-1.5", "2026-01-02", "", ""]
    values = [c.value for c in _xlsx_cells(exports.to_xlsx(rows))]
    assert values == ["n", "x", "d", "missing", "nan", 3, -1.5, "2026-01-02"]
