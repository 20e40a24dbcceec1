"""An activity's rules, typed and frozen: the one reading of `rubric_criteria`.

Validation, submissions, grading, review, feedback prompts and the content page all read
rules through `ActivityRules.from_dict` (via `core.content_tree`), so a missing field has
one default everywhere:
- no `checks` listed means no checks run (an activity runs what its rules name; the
  "every check" run exists only for `ngi validate` without an activity);
- no `criteria` means the program's four criteria, equally weighted;
- no PDF content rules means a PDF only has to carry readable text (always required: a
  PDF without text is refused, see core/validation/pdf.py);
- no `blind_marking` means identities may be revealed (audited) on the review page.

The rubric is `criteria` (key, description, weight, scale): grading scores against it and
feedback prompts show it; there is no second rubric.

Needs no database and no SQLAlchemy: `ngi validate` reads the seed catalogue's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
PDF_TYPES = tuple(t for t in SUBMISSION_TYPES if t.startswith("pdf"))
# The sections a memo or deck may be asked for; each is found by any of its cue words in
# the PDF's text (core/validation/pdf.py). A blank or near-empty file must not pass.
PDF_SECTIONS: dict[str, tuple[str, ...]] = {
    "thesis": ("thesis", "investment case", "summary"),
    "valuation": ("valuation", "dcf", "discounted cash flow", "comparables", "multiple"),
    "risks": ("risk", "risks", "downside"),
    "recommendation": ("recommendation", "recommend", "buy", "sell", "hold"),
}
DEFAULT_SCALE = (0, 5)
MAX_POINTS = 1000  # the highest a criterion's scale may reach
MAX_WORDS = 100_000
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
    scale: tuple[int, int] = DEFAULT_SCALE  # the points a marker gives, low to high


@dataclass(frozen=True)
class PdfContent:
    """What a PDF of one submission type must contain besides readable text."""
    min_words: int = 0
    sections: tuple[str, ...] = ()  # keys of PDF_SECTIONS
    price_target: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> PdfContent:
        data = dict(data or {})
        return cls(min_words=int(data.get("min_words") or 0), sections=tuple(str(s) for s in data.get("sections") or ()),
                   price_target=bool(data.get("price_target")))

    def to_dict(self) -> dict[str, Any]:
        return {"min_words": self.min_words, "sections": list(self.sections), "price_target": self.price_target}


@dataclass(frozen=True)
class PdfRequirements:
    required: tuple[str, ...] = ()  # pdf submission types that must be handed in (e.g. pdf_memo)
    min_pages: int = 0
    max_pages: int | None = None
    content: tuple[tuple[str, PdfContent], ...] = ()  # (pdf submission type, what it must contain)

    def for_type(self, submission_type: str) -> PdfContent | None:
        return dict(self.content).get(submission_type)


def _scale(value: Any) -> tuple[int, int]:
    """A criterion's scale as (low, high): a pair, or a bare maximum (grading's "points out of")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 0, int(value)
    low, high = tuple(value or DEFAULT_SCALE)
    return int(low), int(high)


def _criteria(data: Mapping[str, Any]) -> tuple[Criterion, ...]:
    raw = data.get("criteria")
    if isinstance(raw, list):  # stored shape: [{key, description, weight, scale}]
        return tuple(Criterion(str(item.get("key")), str(item.get("description") or ""),
                               float(item.get("weight") or 0), _scale(item.get("scale"))) for item in raw)
    # the seed's shape: {key: description} with `weights` and `scales` beside it
    texts, weights, scales = dict(raw or DEFAULT_CRITERIA), dict(data.get("weights") or {}), dict(data.get("scales") or {})
    keys = list(dict.fromkeys([*texts, *weights]))
    even = 1 / len(keys) if keys and not weights else 0.0
    return tuple(Criterion(k, texts.get(k, ""), float(weights.get(k, even)), _scale(scales.get(k))) for k in keys)


def _pdf(data: Mapping[str, Any], types: tuple[str, ...]) -> PdfRequirements:
    pdf = dict(data.get("pdf") or {})
    content = dict(pdf.get("content") or {})
    # the seed's shape keeps each type's content rules directly under `pdf`
    content.update({t: v for t, v in pdf.items() if t in PDF_TYPES and t not in content})
    parsed = {str(t): PdfContent.from_dict(v) for t, v in content.items()}
    legacy_words = int(data.get("min_words") or 0)  # one count for every PDF, before 0015
    for t in (t for t in types if t in PDF_TYPES and legacy_words):
        if not parsed.get(t, PdfContent()).min_words:
            parsed[t] = replace(parsed.get(t, PdfContent()), min_words=legacy_words)
    order = {t: i for i, t in enumerate(SUBMISSION_TYPES)}
    max_pages = pdf.get("max_pages")
    return PdfRequirements(required=tuple(pdf.get("required") or ()), min_pages=int(pdf.get("min_pages") or 0),
                           max_pages=None if max_pages is None else int(max_pages),
                           content=tuple(sorted(parsed.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))))


@dataclass(frozen=True)
class ActivityRules:
    required_sheets: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    criteria: tuple[Criterion, ...] = field(default_factory=tuple)
    submission_types: tuple[str, ...] = ("excel",)
    pdf: PdfRequirements = PdfRequirements()
    blind_marking: bool = False  # no one may reveal who submitted (review page) for this activity

    @property
    def check_ids(self) -> list[str]:
        return [c.id for c in self.checks]

    @property
    def weights(self) -> dict[str, float]:
        return {c.key: c.weight for c in self.criteria}

    @property
    def criteria_text(self) -> dict[str, str]:
        return {c.key: c.description for c in self.criteria}

    def rubric(self) -> list[dict[str, Any]]:
        """The grading rubric: each criterion with its description, weight and points
        (min..max), in order. Grading, the review page and the demo read this."""
        return [{"criterion": c.key, "description": c.description, "weight": c.weight, "min": c.scale[0],
                 "max": c.scale[1]} for c in self.criteria]

    def pdf_rules(self, submission_type: str) -> dict[str, Any] | None:
        """What core.validation.read_pdf checks for a PDF of this type (None: readable text only)."""
        content = self.pdf.for_type(submission_type)
        if content is None and not self.pdf.min_pages and self.pdf.max_pages is None:
            return None
        return {**(content or PdfContent()).to_dict(), "min_pages": self.pdf.min_pages,
                "max_pages": self.pdf.max_pages}

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
        types = tuple(data.get("submission_types") or ("excel",))
        return cls(required_sheets=tuple(data.get("required_sheets") or ()), checks=tuple(checks),
                   criteria=_criteria(data), submission_types=types, pdf=_pdf(data, types),
                   blind_marking=bool(data.get("blind_marking")))

    def to_dict(self) -> dict[str, Any]:
        """The stored (and exported) shape; from_dict(to_dict(r)) == r."""
        return {
            "required_sheets": list(self.required_sheets),
            "checks": [{"id": c.id, "params": dict(c.params)} if c.params else c.id for c in self.checks],
            "criteria": [{"key": c.key, "description": c.description, "weight": c.weight, "scale": list(c.scale)}
                         for c in self.criteria],
            "submission_types": list(self.submission_types),
            "pdf": {"required": list(self.pdf.required), "min_pages": self.pdf.min_pages,
                    "max_pages": self.pdf.max_pages, "content": {t: c.to_dict() for t, c in self.pdf.content}},
            "blind_marking": self.blind_marking,
        }

    def problems(self, path: str = "rules") -> list[tuple[str, str]]:
        """Everything wrong, each with where it is: unknown checks or parameters,
        weights that do not add up to 100%, bad scales, unknown submission types, PDF
        rules for a type not accepted, unknown sections."""
        return [*_check_problems(self.checks, path), *_criteria_problems(self.criteria, path),
                *_pdf_problems(self, path)]

    def checked(self, path: str = "rules") -> ActivityRules:
        problems = self.problems(path)
        if problems:
            raise RulesProblem(problems)
        return self


def _check_problems(checks: tuple[Check, ...], path: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, check in enumerate(checks):
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
            elif not _number(value) or value < 0:
                out.append((f"{where}.params.{name}", f"{name} must be a number of at least 0"))
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _criteria_problems(criteria: tuple[Criterion, ...], path: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    keys = [c.key for c in criteria]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        out.append((f"{path}.criteria", f"criterion {key!r} is listed twice"))
    for c in criteria:
        if not c.key or c.key == "None":
            out.append((f"{path}.criteria", "a criterion has no key"))
        if not 0 <= c.weight <= 1:
            out.append((f"{path}.criteria.{c.key}.weight", f"weight {c.weight:.0%} must be from 0% to 100%"))
        low, high = c.scale
        if low < 0 or high > MAX_POINTS:
            out.append((f"{path}.criteria.{c.key}.scale", f"scale {low}–{high} must stay within 0–{MAX_POINTS}"))
        elif low >= high:
            out.append((f"{path}.criteria.{c.key}.scale", f"scale {low}–{high} is empty"))
    total = sum(c.weight for c in criteria)
    if criteria and abs(total - 1) > WEIGHT_TOLERANCE:
        out.append((f"{path}.criteria", f"weights add up to {total * 100:g}%, not 100%"))
    return out


def _pdf_problems(rules: ActivityRules, path: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pdf = rules.pdf
    for t in rules.submission_types:
        if t not in SUBMISSION_TYPES:
            out.append((f"{path}.submission_types", f"unknown submission type {t!r}"))
    for t in pdf.required:
        if t not in rules.submission_types:
            out.append((f"{path}.pdf.required", f"{t!r} is required but not an accepted submission type"))
    if pdf.min_pages < 0:
        out.append((f"{path}.pdf.min_pages", "cannot be negative"))
    if pdf.max_pages is not None and pdf.max_pages < pdf.min_pages:
        out.append((f"{path}.pdf", "max_pages is below min_pages"))
    for t, content in pdf.content:
        where = f"{path}.pdf.content.{t}"
        if t not in PDF_TYPES:
            out.append((where, f"{t!r} is not a PDF submission type; PDF types: {', '.join(PDF_TYPES)}"))
        elif t not in rules.submission_types:
            out.append((where, f"{t!r} has content rules but is not an accepted submission type"))
        if not 0 <= content.min_words <= MAX_WORDS:
            out.append((f"{where}.min_words", f"the minimum word count must be a whole number from 0 to {MAX_WORDS}"))
        for i, section in enumerate(content.sections):
            if section not in PDF_SECTIONS:
                out.append((f"{where}.sections[{i}]",
                            f"unknown section {section!r}; known sections: {', '.join(PDF_SECTIONS)}"))
            elif content.sections.index(section) != i:
                out.append((f"{where}.sections[{i}]", f"section {section!r} is listed twice"))
    return out


# The fields each part of the stored shape may hold (weights, scales and a top-level
# min_words are older shapes, still read); an import names any other rather than drop it.
_KNOWN_FIELDS = {"": {"required_sheets", "checks", "criteria", "submission_types", "pdf", "blind_marking", "weights",
                      "scales", "min_words"},
                 "pdf": {"required", "min_pages", "max_pages", "content", *PDF_TYPES},
                 "content": {"min_words", "sections", "price_target"}}


def unknown_fields(data: Any, path: str = "rules") -> list[tuple[str, str]]:
    """Fields of stored or imported rules that `from_dict` would ignore, each with its path."""
    parts: list[tuple[Any, str, str]] = [(data, "", path)]
    pdf = data.get("pdf") if isinstance(data, Mapping) else None
    parts.append((pdf, "pdf", f"{path}.pdf"))
    content = pdf.get("content") if isinstance(pdf, Mapping) else None
    if isinstance(content, Mapping):
        parts += [(c, "content", f"{path}.pdf.content.{t}") for t, c in content.items()]
    out = []
    for part, kind, where in parts:
        extra = sorted(str(k) for k in part if k not in _KNOWN_FIELDS[kind]) if isinstance(part, Mapping) else []
        if extra:
            out.append((where, f"unknown field(s) {', '.join(extra)}"))
    return out


PDF_LABELS = {"pdf_memo": "Memo PDF", "pdf_deck": "Deck PDF"}
SUBMISSION_LABELS = {"excel": "Excel workbook", **PDF_LABELS}
_FIELD_LABELS = {"criteria": "Rubric criteria", "checks": "Checks", "submission_types": "Accepted submissions",
                 "pdf": "PDF pages", "required": "Required PDFs", "min_pages": "PDF minimum pages",
                 "max_pages": "PDF maximum pages"}


def field_label(path: str) -> str:
    """A problem's path as the rules editor names the field: `x.rules.criteria.accuracy.weight`
    → "Rubric criterion accuracy", `x.rules.pdf.content.pdf_memo.sections[4]` → "Memo PDF"
    (the problem's message names the part: weight, scale, minimum word count, section)."""
    tail = f".{path}".split(".rules.", 1)[-1]
    parts = [p.split("[")[0] for p in tail.split(".")]
    if parts[0] == "criteria" and len(parts) > 1:
        return f"Rubric criterion {parts[1]}"
    if parts[0] == "checks" and len(parts) > 1:
        return "Check parameters"
    if parts[:2] == ["pdf", "content"] and len(parts) > 2:
        return PDF_LABELS.get(parts[2], parts[2])
    if parts[0] == "pdf" and len(parts) > 1:
        return _FIELD_LABELS.get(parts[1], parts[1])
    return _FIELD_LABELS.get(parts[0], parts[0]) or "Rules"


ALL_CHECKS = tuple(CHECK_PARAMS)
