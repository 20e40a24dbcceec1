"""The validator engine: safety first, then the checks an activity asks for.

    report = validate_path(path, activity_id="a2_wc_debt")
    report.status            # passed | failed | rejected
    report.to_dict()         # the JSON `ngi validate --json` prints

Needs no database: each activity's checks and required sheets are its
`core.rules.ActivityRules` — the seed catalogue's here (`rubric_for`, for `ngi validate`
without a database), the database's when the submission service passes them in
(`core.content_tree.activity_rules`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core import catalogue
from core.errors import Invalid
from core.rules import ActivityRules
from core.statuses import FAILED, PASSED
from core.validation import checks as _checks
from core.validation import recalc
from core.validation.pdf import read_pdf
from core.validation.report import CheckResult, Finding, Report, rejected
from core.validation.safety import Rejected
from core.validation.workbook import Workbook, cell_ref, read_workbook

__all__ = [
    "CheckResult",
    "Finding",
    "Rejected",
    "Report",
    "kind_for",
    "read_pdf",
    "read_workbook",
    "rubric_for",
    "validate_path",
    "validate_workbook",
]

EXCEL_EXTENSIONS = {"xlsx"}
PDF_EXTENSIONS = {"pdf"}


def rubric_for(activity_id: str) -> ActivityRules:
    """The seed catalogue's rules for an activity (no database)."""
    rules = catalogue.activity_rules(activity_id)
    if rules is None:
        raise Invalid(f"Unknown activity {activity_id!r}; known activities: {', '.join(catalogue.activity_keys())}.")
    return rules


def kind_for(filename: str) -> str:
    ext = Path(filename).suffix.lower().lstrip(".")
    if ext in PDF_EXTENSIONS:
        return "pdf"
    return "excel"


def validate_workbook(workbook: Workbook, *, checks: list[str], required_sheets: list[str],
                      params: dict[str, dict] | None = None) -> Report:
    ctx = _checks.Context(workbook, required_sheets, params)
    outputs: dict[str, float] = {}
    results = []
    for check_id in checks:
        fn = _checks.CHECKS.get(check_id)
        if fn is None:
            result = CheckResult(check_id)
            result.skip(f"Unknown check {check_id!r}.")
        elif check_id == "price_targets":
            result = fn(ctx, outputs)
        else:
            result = fn(ctx)
        results.append(result)
    status = FAILED if any(r.status == FAILED for r in results) else PASSED
    return Report(status=status, checks=results, outputs=outputs, details={"figures": _figures(ctx)})


FIGURE_LINES = [("drivers", "revenue"), ("income", "revenue"), ("income", "net_income"),
                ("balance", "total_assets"), ("balance", "cash"), ("cash", "ending_cash")]


def _figures(ctx) -> dict[str, dict[str, float]]:
    """Headline lines per period ("income.net_income": {"FY2025E": 812.4, ...}) for feedback and review."""
    figures: dict[str, dict[str, float]] = {}
    for role, key in FIGURE_LINES:
        lay = ctx.layout(role) if ctx.sheet(role) is not None else None
        row = lay.find(key) if lay else None
        if lay is None or row is None:
            continue
        values = {p.label: round(v, 2) for p in lay.periods if (v := lay.number(row, p)) is not None}
        if values:
            figures[f"{role}.{key}"] = values
    return figures


def _missing_message(label: str, workbook: Workbook, reason: str) -> str:
    missing = workbook.missing_values
    sheet, (row, col) = missing[0]
    more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
    return (f"{label}: {len(missing)} formula cell(s) have no saved values (first: '{sheet}'!{cell_ref(row, col)}"
            f"{more}), and they could not be recalculated ({reason}). Open the file in Excel or LibreOffice, "
            "save it, and upload it again.")


def validate_excel(path: Path, *, name: str | None = None, checks: list[str], required_sheets: list[str],
                   defer_recalc: bool = False, params: dict[str, dict] | None = None) -> Report:
    label = name or Path(path).name
    try:
        workbook = read_workbook(path, name=label)
    except Rejected as err:
        return rejected(str(err))
    details: dict = {}
    if workbook.missing_values and defer_recalc and recalc.soffice_path() is not None:
        # Safe and readable, but LibreOffice must calculate it first: that takes seconds
        # to minutes, so the upload stores it as pending and a job finishes the validation.
        return Report(status="pending", message=(
            f"{label}: {len(workbook.missing_values)} formula cell(s) have no saved values; LibreOffice is "
            "recalculating the workbook and the checks run after that."), details={"sheets": list(workbook.order)})
    if workbook.missing_values:
        try:
            recalculated = recalc.recalculate(path)
        except recalc.RecalcFailed as err:
            return rejected(_missing_message(label, workbook, str(err)))
        try:
            count = len(workbook.missing_values)
            workbook = read_workbook(recalculated, name=label)
        except Rejected as err:
            return rejected(f"{label}: the recalculated copy could not be read ({err}).")
        finally:
            shutil.rmtree(recalculated.parent.parent, ignore_errors=True)
        if workbook.missing_values:
            return rejected(_missing_message(label, workbook, "LibreOffice left them empty"))
        details["recalculated"] = f"LibreOffice recalculated {count} formula cell(s) that had no saved values"
    report = validate_workbook(workbook, checks=checks, required_sheets=required_sheets, params=params)
    report.details.update(details)
    report.details["sheets"] = list(workbook.order)
    return report


def validate_path(path: Path | str, *, activity_id: str | None = None, name: str | None = None,
                  rules: ActivityRules | None = None, checks: list[str] | None = None,
                  required_sheets: list[str] | None = None, kind: str | None = None,
                  defer_recalc: bool = False) -> Report:
    """Validate a file on disk. Unsafe or unreadable input gives status 'rejected'; with
    `defer_recalc`, a workbook that needs LibreOffice gives 'pending' (nothing checked yet).

    The checks come from `rules` (or the seed's rules of `activity_id`); with neither,
    every check runs, which is what `ngi validate` without an activity means."""
    path = Path(path)
    label = name or path.name
    if not path.is_file():
        return rejected(f"{label} does not exist or is not a file.")
    kind = kind or kind_for(label)
    if kind == "pdf":
        return read_pdf(path, name=label)[0]
    if rules is None and activity_id:
        rules = rubric_for(activity_id)
    if checks is None:
        checks = rules.check_ids if rules is not None else list(_checks.CHECKS)
    if required_sheets is None:
        required_sheets = list(rules.required_sheets) if rules is not None else []
    params = {c.id: dict(c.params) for c in rules.checks} if rules is not None else None
    return validate_excel(path, name=label, checks=checks, required_sheets=required_sheets, defer_recalc=defer_recalc,
                          params=params)
