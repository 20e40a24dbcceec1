"""What a provider sees: persona, activity objectives and rubric, validator report, and a
compact digest of the student's file.

Nothing that identifies the student goes in: no name, email, student id, file name or
storage key (keys embed the user id). The student is an anonymous label, and any
occurrence of their name or email inside the file itself is replaced before sending.
The exact system and user text is stored with the feedback for moderators.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import content_tree
from core.feedback.personas import Persona
from core.models import LearningSubmission, ValidatorRun
from core.rules import ActivityRules

MAX_SHEETS = 6
MAX_ROWS = 60
MAX_COLS = 14
MAX_CELL_CHARS = 40
MAX_PDF_CHARS = 6000
MAX_FINDINGS_PER_CHECK = 6
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SCHEMA_NAME = "ngi_feedback_v1"


@dataclass
class Prompt:
    persona: str
    system: str
    user: str
    label: str
    # Structured inputs for the offline rubric coach and the checks; never sent as-is.
    context: dict[str, Any] = field(default_factory=dict)

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    def stored(self, **extra) -> dict[str, Any]:
        return {"persona": self.persona, "label": self.label, "schema": SCHEMA_NAME,
                "system": self.system, "user": self.user, **extra}


def anonymous_label(submission: LearningSubmission) -> str:
    # The storage key holds a random uuid, so the label cannot be walked back to an id.
    digest = hashlib.sha256(f"ngi-label:{submission.file_path}".encode()).hexdigest()
    return f"Analyst {digest[:6].upper()}"


def activity_info(session: Session, activity_key: str) -> dict[str, Any]:
    # Through the content tree, like validation and submissions: one reading of the rules.
    tree = content_tree.current(session)
    node = tree.node(activity_key)
    rules = tree.rules(activity_key) or ActivityRules.from_dict(None)
    return {
        "key": activity_key,
        "title": node.title if node is not None else activity_key,
        "description": node.description if node is not None else "",
        "objectives": list(node.objectives) if node is not None else [],
        "criteria": rules.criteria_text,
        "weights": rules.weights,
        "scales": {c.key: list(c.scale) for c in rules.criteria},
        "required_sheets": list(rules.required_sheets),
        "checks": rules.check_ids,
        "pdf": {t: c.to_dict() for t, c in rules.pdf.content},  # what a memo or deck must contain
    }


def validator_report(session: Session, submission: LearningSubmission) -> dict[str, Any]:
    run = session.scalar(
        select(ValidatorRun).where(ValidatorRun.submission_id == submission.id)
        .order_by(ValidatorRun.id.desc()).limit(1)
    )
    report = run.report if run is not None and isinstance(run.report, dict) else submission.validator_errors
    if isinstance(report, list):
        # learning_submissions.validator_errors mirrors the report as a flat list of
        # findings, each naming its check; regroup them so the coach sees checks again.
        grouped: dict[str, list] = {}
        for finding in report:
            if isinstance(finding, dict):
                grouped.setdefault(finding.get("check") or "validators", []).append(finding)
        report = {"status": submission.validator_status,
                  "checks": [{"id": cid, "status": "failed", "findings": found} for cid, found in grouped.items()]}
    if not isinstance(report, dict):
        report = {"status": submission.validator_status, "checks": []}
    return report


def compact_report(report: dict[str, Any]) -> dict[str, Any]:
    checks = []
    for check in report.get("checks") or []:
        findings = [
            {k: f.get(k) for k in ("sheet", "cell", "period", "message", "expected", "actual") if f.get(k) is not None}
            for f in (check.get("findings") or [])[:MAX_FINDINGS_PER_CHECK]
            if isinstance(f, dict)
        ]
        extra = len(check.get("findings") or []) - len(findings)
        item = {"id": check.get("id"), "status": check.get("status"), "findings": findings}
        if check.get("note"):
            item["note"] = check["note"]
        if extra > 0:
            item["more_findings"] = extra
        checks.append(item)
    return {"status": report.get("status"), "checks": checks, "outputs": report.get("outputs") or {}}


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return int(number) if number.is_integer() else round(number, 4)
    if isinstance(value, (datetime, date)):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    text = " ".join(str(value).split())
    return text[:MAX_CELL_CHARS] if text else None


def workbook_digest(data: bytes, wanted_sheets: list[str]) -> dict[str, Any]:
    """Values (as last saved) of the statement sheets, trimmed to a readable size."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file becomes a note, not a crash
        return {"kind": "workbook", "error": f"the workbook could not be read ({type(exc).__name__})", "sheets": []}
    try:
        lowered = {w.lower() for w in wanted_sheets}
        names = [n for n in wb.sheetnames if n.lower() in lowered] or list(wb.sheetnames)
        sheets = []
        for name in names[:MAX_SHEETS]:
            ws = wb[name]
            rows: list[tuple[int | None, list[Any]]] = []
            for row in ws.iter_rows(max_row=MAX_ROWS * 3, max_col=MAX_COLS):
                values = [_plain(c.value) for c in row]
                if any(v is not None for v in values):
                    number = next((c.row for c in row if getattr(c, "row", None)), None)
                    rows.append((number, values))
                if len(rows) >= MAX_ROWS:
                    break
            # Read-only sheets report the formatted width; drop columns that hold nothing.
            width = max((max(i for i, v in enumerate(vals) if v is not None) + 1 for _, vals in rows), default=0)
            sheets.append({"name": name, "rows": [[n, vals[:width]] for n, vals in rows]})
        return {"kind": "workbook", "sheets": sheets, "other_sheets": [n for n in wb.sheetnames if n not in names]}
    finally:
        wb.close()


def pdf_digest(data: bytes) -> dict[str, Any]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join((page.extract_text() or "") for page in reader.pages)
    except Exception as exc:  # noqa: BLE001
        return {"kind": "pdf", "error": f"the PDF could not be read ({type(exc).__name__})", "text": ""}
    text = re.sub(r"[ \t]+", " ", text).strip()
    return {"kind": "pdf", "pages": len(reader.pages), "text": text[:MAX_PDF_CHARS],
            "truncated": len(text) > MAX_PDF_CHARS}


def file_digest(submission: LearningSubmission, wanted_sheets: list[str]) -> dict[str, Any]:
    from core.storage import default_storage

    try:
        with default_storage().open(submission.file_path) as fh:
            data = fh.read()
    except Exception as exc:  # noqa: BLE001 - a missing file still leaves the report to coach on
        return {"kind": "missing", "error": f"the submitted file could not be opened ({type(exc).__name__})"}
    if submission.file_path.lower().endswith(".pdf") or data[:5] == b"%PDF-":
        return pdf_digest(data)
    return workbook_digest(data, wanted_sheets)


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def render_digest(digest: dict[str, Any]) -> str:
    if digest.get("error"):
        return f"(No digest: {digest['error']}.)"
    if digest.get("kind") == "pdf":
        return f"PDF, {digest.get('pages')} page(s){' (truncated)' if digest.get('truncated') else ''}:\n{digest['text']}"
    parts = []
    for sheet in digest.get("sheets", []):
        width = max((len(v) for _, v in sheet["rows"]), default=0)
        lines = [f'Sheet "{sheet["name"]}"', "row | " + " | ".join(_column(i) for i in range(width))]
        for number, values in sheet["rows"]:
            cells = ["" if v is None else (f"{v:,}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
                     for v in values]
            lines.append(f"{number} | " + " | ".join(cells))
        parts.append("\n".join(lines))
    if digest.get("other_sheets"):
        parts.append("Other sheets (not shown): " + ", ".join(digest["other_sheets"]))
    return "\n\n".join(parts)


def redact(text: str, *, secrets: list[str], label: str) -> str:
    """Replace the student's name, name parts and email, and any email address at all."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = re.sub(rf"(?i)\b{re.escape(secret)}\b", label, text)
    return EMAIL_RE.sub("[email removed]", text)


def student_secrets(submission: LearningSubmission) -> list[str]:
    student = submission.student
    if student is None:
        return []
    name = (student.full_name or "").strip()
    return [student.email or "", name, *name.split()]


def build(session: Session, submission: LearningSubmission, persona: Persona) -> Prompt:
    activity = activity_info(session, submission.activity_id)
    report = validator_report(session, submission)
    digest = file_digest(submission, activity["required_sheets"])
    label = anonymous_label(submission)
    company = submission.company
    header = {
        "student": label,
        "activity": {k: activity[k] for k in ("key", "title", "description", "objectives")},
        "company": {"ticker": company.ticker, "name": company.company_name} if company is not None else None,
        "submission_type": submission.submission_type,
        "version": submission.version,
        "rubric": {"criteria": activity["criteria"], "weights": activity["weights"]},
        "validator_report": compact_report(report),
    }
    user = (
        f"Review the submission of {label}.\n\n"
        + json.dumps(header, indent=1, default=str)
        + "\n\nDigest of the submitted file (values as last saved):\n"
        + render_digest(digest)
        + "\n\nWrite feedback_text (at least 80 words, addressed to 'you'), strengths, "
        "areas_for_improvement and specific_suggestions, each naming cells or figures, and "
        "score each rubric criterion from 0 to 100."
    )
    secrets = student_secrets(submission)
    user = redact(user, secrets=secrets, label=label)
    return Prompt(
        persona=persona.key, system=persona.system_prompt, user=user, label=label,
        context={"activity": activity, "report": report, "digest": digest, "label": label,
                 "secrets": secrets, "company": header["company"], "version": submission.version},
    )
