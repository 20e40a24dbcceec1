"""The validator's report: the JSON shape `ngi validate --json` prints and the database stores."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.statuses import REJECTED


@dataclass
class Finding:
    sheet: str | None
    cell: str | None
    period: str | None
    message: str
    expected: Any = None
    actual: Any = None


@dataclass
class CheckResult:
    id: str
    status: str = "passed"  # passed | failed | skipped
    findings: list[Finding] = field(default_factory=list)
    note: str | None = None  # why a check was skipped, or what it looked at

    def fail(self, message: str, *, sheet=None, cell=None, period=None, expected=None, actual=None) -> None:
        self.status = "failed"
        self.findings.append(Finding(sheet=sheet, cell=cell, period=period, message=message,
                                     expected=_plain(expected), actual=_plain(actual)))

    def skip(self, note: str) -> None:
        self.status = "skipped"
        self.note = note


def _plain(value):
    if isinstance(value, float):
        return round(value, 4)
    return value


@dataclass
class Report:
    status: str  # passed | failed | rejected | pending (waiting for LibreOffice, see core.jobs)
    checks: list[CheckResult] = field(default_factory=list)
    outputs: dict[str, float] = field(default_factory=dict)
    message: str | None = None
    kind: str = "excel"  # excel | pdf
    details: dict[str, Any] = field(default_factory=dict)  # pages, recalculated, text length ...

    def to_dict(self, *, full: bool = True) -> dict[str, Any]:
        """The issue's JSON shape; `full` adds check notes and read details (stored in the database)."""
        data: dict[str, Any] = {"status": self.status}
        if self.message:
            data["message"] = self.message
        data["checks"] = []
        for check in self.checks:
            item = {"id": check.id, "status": check.status, "findings": [asdict(f) for f in check.findings]}
            if check.note and full:
                item["note"] = check.note
            data["checks"].append(item)
        data["outputs"] = dict(self.outputs)
        if self.details and full:
            data["details"] = dict(self.details)
        return data

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Flat list mirrored into learning_submissions.validator_errors."""
        if self.status == REJECTED:
            return [{"check": None, "sheet": None, "cell": None, "period": None, "message": self.message}]
        return [
            {"check": c.id, **asdict(f)} for c in self.checks for f in c.findings
        ]

    def check(self, check_id: str) -> CheckResult | None:
        return next((c for c in self.checks if c.id == check_id), None)


def flat_errors(value: Any) -> list[dict[str, Any]] | None:
    """validator_errors in its one shape, the flat findings list. A whole report
    ({status, checks: [{id, findings}]}, as the analytics benchmark once wrote) is
    flattened; None stays None."""
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, Report):
        return value.errors
    if isinstance(value, dict):
        if value.get("status") == REJECTED:
            return [{"check": None, "sheet": None, "cell": None, "period": None, "message": value.get("message")}]
        flat = []
        for check in value.get("checks") or []:
            for finding in check.get("findings") or []:
                flat.append({"check": check.get("id"), **{k: finding.get(k) for k in (
                    "sheet", "cell", "period", "message", "expected", "actual")}})
            if check.get("status") == "failed" and not check.get("findings"):
                flat.append({"check": check.get("id"), "sheet": None, "cell": None, "period": None,
                             "message": check.get("note") or f"{check.get('id')} failed."})
        return flat
    raise TypeError(f"validator_errors must be a list of findings, not {type(value).__name__}")


def rejected(message: str, *, kind: str = "excel") -> Report:
    return Report(status=REJECTED, message=message, kind=kind)
