"""Small real submissions for the feedback tests: a student, a stored .xlsx with the three
statements, and a passing validator report (the shape core.validation produces)."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import Workbook
from sqlalchemy import select

from core.db import session_scope, utcnow
from core.models import LearningCompany, LearningSubmission, Student
from core.storage import default_storage

PERIODS = ["FY2023", "FY2024", "FY2025E", "FY2026E", "FY2027E"]


def workbook_bytes(*, revenue, net_income, notes=(), cover_name: str | None = None,
                   bs_gap: float = 0) -> bytes:
    """Income statement, balance sheet and cash flow for five periods (values, as saved)."""
    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover["A1"] = "Three-statement model"
    if cover_name:
        cover["A2"] = f"Prepared by {cover_name}"
    inc = wb.create_sheet("Income Statement")
    inc.append(["", *PERIODS])
    inc.append(["Revenue", *revenue])
    inc.append(["Cost of sales", *[round(r * 0.6) for r in revenue]])
    inc.append(["Net income", *net_income])
    for i, note in enumerate(notes):
        inc.cell(row=6 + i, column=1, value=note)
    bs = wb.create_sheet("Balance Sheet")
    bs.append(["", *PERIODS])
    assets = [round(r * 1.1) for r in revenue]
    bs.append(["Cash", *[round(a * 0.1) for a in assets]])
    bs.append(["Total assets", *assets])
    bs.append(["Total liabilities and equity", *[a - (bs_gap if i == 3 else 0) for i, a in enumerate(assets)]])
    cf = wb.create_sheet("Cash Flow")
    cf.append(["", *PERIODS])
    cf.append(["Net income", *net_income])
    cf.append(["Ending cash", *[round(a * 0.1) for a in assets]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def passing_report(*, warnings: list[dict] | None = None) -> dict:
    checks = [
        {"id": "required_sheets", "status": "passed", "findings": []},
        {"id": "no_error_values", "status": "passed", "findings": []},
        {"id": "net_income_ties", "status": "passed", "findings": []},
    ]
    for warning in warnings or []:
        checks.append({"id": warning["id"], "status": warning.get("status", "warning"),
                       "findings": warning.get("findings", [])})
    return {"status": "passed", "checks": checks, "outputs": {}}


def add_submission(engine, *, student_id: int = 987654, full_name: str = "Jane Quarterman",
                   email: str = "jane.quarterman@example.edu", ticker: str | None = None,
                   activity: str = "a2_wc_debt", data: bytes | None = None, report: dict | None = None,
                   status: str = "passed", version: int = 1) -> int:
    """Insert a student (if new) and one submission with its file in storage; returns its id."""
    data = data if data is not None else workbook_bytes(
        revenue=[1000, 1100, 1210, 1331, 1464], net_income=[80, 90, 100, 110, 120])
    key = f"submissions/{student_id}/{activity}/v{version}-{student_id}.xlsx"
    stored = default_storage().put(key, io.BytesIO(data))
    with session_scope(engine) as session:
        if session.get(Student, student_id) is None:
            session.add(Student(id=student_id, email=email, full_name=full_name, cohort="2026A"))
            session.flush()
        company = session.scalar(select(LearningCompany).where(LearningCompany.ticker == ticker)) if ticker else None
        if company is None:
            company = session.scalar(select(LearningCompany).order_by(LearningCompany.id).limit(1))
        sub = LearningSubmission(
            user_id=student_id, company_id=company.id, activity_id=activity, module="accounting_i",
            submission_type="excel", version=version, file_path=stored.key,
            file_name=f"{full_name.replace(' ', '_')}_model.xlsx", file_size_bytes=stored.size,
            file_hash=stored.sha256, validator_status=status,
            validator_errors=report if report is not None else passing_report(),
            validator_run_at=utcnow() - timedelta(minutes=1), is_latest=True,
        )
        session.add(sub)
        session.flush()
        return sub.id
