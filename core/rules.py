"""An activity's rules, typed and frozen: the one reading of `rubric_criteria`.

Validation, submissions, feedback prompts and the content page all read rules through
`ActivityRules.from_dict`, so a missing field has one default everywhere:
- no `checks` listed means no checks run (an activity runs what its rules name; the
  "every check" run exists only for `ngi validate` without an activity);
- no `criteria` means the program's four criteria, equally weighted.

Needs no database and no SQLAlchemy: `ngi validate` reads the seed catalogue's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Every check the validators know, and the parameters each accepts (name -> type);
# `tolerance` is the smallest difference that fails a tie (core.validation.checks.tolerance).
CHECK_PARAMS: dict[str, dict[str, type]] = {
    "required_sheets": {},
    "no_error_values": {},
    "bs_balances": {"tolerance": float},
    "cash_ties": {"tolerance": float},
    "net_income_ties": {"tolerance": float},
    "forecast_formulas": {},
    "revenue_build": {"tolerance": float},
    "price_targets": {},
}
SUBMISSION_TYPES = ("excel", "pdf_memo", "pdf_deck")
DEFAULT_SCALE = (0, 5)
DEFAULT_CRITERIA = {
    "accuracy": "Statements tie: the balance sheet balances, cash and net income reconcile, no errors.",
    "documentation": "Assumptions are written down next to the inputs, with sources.",
    "presentation": "Clear layout: labelled periods, consistent units, inputs distinguished from formulas.",
    "reasoning": "Drivers and forecasts are explained and defensible against the company's history.",
}
WEIGHT_TOLERANCE = 1e-6


class RulesProblem(ValueError):
    """Rules that cannot be used; `problems` are (path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))


@dataclass(frozen=True)
class Check:
    id: str
    params: tuple[tuple[str, Any], ...] = ()

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)


@dataclass(frozen=True)
class Criterion:
    key: str
    description: str
    weight: float  # a fraction; all of an activity's weights add up to 1 (100%)
    scale: tuple[int, int] = DEFAULT_SCALE


@dataclass(frozen=True)
class PdfRequirements:
    required: tuple[str, ...] = ()  # pdf submission types that must be handed in (e.g. pdf_memo)
    min_pages: int = 0
    max_pages: int | None = None


def _scale(value: Any) -> tuple[int, int]:
    """A criterion's scale as (low, high): a pair, or a bare maximum (grading's "points out of")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 0, int(value)
    low, high = tuple(value or DEFAULT_SCALE)
    return int(low), int(high)


@dataclass(frozen=True)
class ActivityRules:
    required_sheets: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    criteria: tuple[Criterion, ...] = field(default_factory=tuple)
    submission_types: tuple[str, ...] = ("excel",)
    pdf: PdfRequirements = PdfRequirements()
    min_words: int = 0

    @property
    def check_ids(self) -> list[str]:
        return [c.id for c in self.checks]

    @property
    def weights(self) -> dict[str, float]:
        return {c.key: c.weight for c in self.criteria}

    @property
    def criteria_text(self) -> dict[str, str]:
        return {c.key: c.description for c in self.criteria}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ActivityRules:
        """The stored JSON (old or new shape) as rules; never fails on a legacy dict.
        `problems()` says what is wrong with it."""
        data = dict(data or {})
        checks = []
        for item in data.get("checks") or []:
            if isinstance(item, str):
                checks.append(Check(item))
            elif isinstance(item, Mapping):
                params = dict(item.get("params") or {})
                checks.append(Check(str(item.get("id")), tuple(sorted(params.items()))))
        raw_criteria = data.get("criteria")
        weights = dict(data.get("weights") or {})
        scales = dict(data.get("scales") or {})
        criteria: list[Criterion] = []
        if isinstance(raw_criteria, list):  # new shape: [{key, description, weight, scale}]
            for item in raw_criteria:
                scale = tuple(item.get("scale") or DEFAULT_SCALE)
                criteria.append(Criterion(str(item.get("key")), str(item.get("description") or ""),
                                          float(item.get("weight") or 0), (int(scale[0]), int(scale[1]))))
        else:
            texts = dict(raw_criteria or DEFAULT_CRITERIA)
            keys = list(dict.fromkeys([*texts, *weights]))
            even = 1 / len(keys) if keys and not weights else 0.0
            for key in keys:
                low, high = _scale(scales.get(key))
                criteria.append(Criterion(key, texts.get(key, ""), float(weights.get(key, even)), (low, high)))
        pdf = dict(data.get("pdf") or {})
        types = tuple(data.get("submission_types") or ("excel",))
        return cls(
            required_sheets=tuple(data.get("required_sheets") or ()),
            checks=tuple(checks),
            criteria=tuple(criteria),
            submission_types=types,
            pdf=PdfRequirements(required=tuple(pdf.get("required") or ()), min_pages=int(pdf.get("min_pages") or 0),
                                max_pages=pdf.get("max_pages")),
            min_words=int(data.get("min_words") or 0),
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored (and exported) shape; from_dict(to_dict(r)) == r."""
        return {
            "required_sheets": list(self.required_sheets),
            "checks": [{"id": c.id, "params": dict(c.params)} if c.params else c.id for c in self.checks],
            "criteria": [{"key": c.key, "description": c.description, "weight": c.weight, "scale": list(c.scale)}
                         for c in self.criteria],
            "submission_types": list(self.submission_types),
            "pdf": {"required": list(self.pdf.required), "min_pages": self.pdf.min_pages,
                    "max_pages": self.pdf.max_pages},
            "min_words": self.min_words,
        }

    def problems(self, path: str = "rules") -> list[tuple[str, str]]:
        """Everything wrong, each with where it is: unknown checks or parameters,
        weights that do not add up to 100%, bad scales, unknown submission types."""
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for i, check in enumerate(self.checks):
            where = f"{path}.checks[{i}]"
            if check.id not in CHECK_PARAMS:
                out.append((where, f"unknown check {check.id!r}; known checks: {', '.join(CHECK_PARAMS)}"))
                continue
            if check.id in seen:
                out.append((where, f"check {check.id!r} is listed twice"))
            seen.add(check.id)
            for name, value in check.params:
                kind = CHECK_PARAMS[check.id].get(name)
                if kind is None:
                    out.append((f"{where}.params.{name}", f"check {check.id!r} has no parameter {name!r}"))
                elif not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    out.append((f"{where}.params.{name}", f"{name} must be a number of at least 0"))
        keys = [c.key for c in self.criteria]
        for key in {k for k in keys if keys.count(k) > 1}:
            out.append((f"{path}.criteria", f"criterion {key!r} is listed twice"))
        for c in self.criteria:
            if not c.key or c.key == "None":
                out.append((f"{path}.criteria", "a criterion has no key"))
            if c.weight < 0:
                out.append((f"{path}.criteria.{c.key}", f"weight {c.weight:.0%} is negative"))
            if c.scale[0] >= c.scale[1]:
                out.append((f"{path}.criteria.{c.key}", f"scale {c.scale[0]}–{c.scale[1]} is empty"))
        total = sum(c.weight for c in self.criteria)
        if self.criteria and abs(total - 1) > WEIGHT_TOLERANCE:
            out.append((f"{path}.criteria", f"weights add up to {total * 100:g}%, not 100%"))
        for t in self.submission_types:
            if t not in SUBMISSION_TYPES:
                out.append((f"{path}.submission_types", f"unknown submission type {t!r}"))
        for t in self.pdf.required:
            if t not in self.submission_types:
                out.append((f"{path}.pdf.required", f"{t!r} is required but not an accepted submission type"))
        if self.pdf.max_pages is not None and self.pdf.max_pages < self.pdf.min_pages:
            out.append((f"{path}.pdf", "max_pages is below min_pages"))
        if self.min_words < 0:
            out.append((f"{path}.min_words", "cannot be negative"))
        return out

    def checked(self, path: str = "rules") -> ActivityRules:
        problems = self.problems(path)
        if problems:
            raise RulesProblem(problems)
        return self


ALL_CHECKS = tuple(CHECK_PARAMS)
