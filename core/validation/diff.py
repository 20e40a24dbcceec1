"""Cell-by-cell comparison of two versions of a workbook, and one sheet as a grid.

Values are compared as cached; a changed input changes every formula downstream, so
value changes are counted in full but listed only up to LIMIT cells per category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.validation.workbook import Sheet, Workbook, cell_ref

LIMIT = 500


@dataclass
class WorkbookDiff:
    added_sheets: list[str] = field(default_factory=list)
    removed_sheets: list[str] = field(default_factory=list)
    changed_formulas: list[dict[str, Any]] = field(default_factory=list)
    changed_values: list[dict[str, Any]] = field(default_factory=list)
    new_hardcoded: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("added_sheets", "removed_sheets", "changed_formulas",
                                              "changed_values", "new_hardcoded", "counts", "checks")}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def diff_workbooks(old: Workbook, new: Workbook) -> WorkbookDiff:
    result = WorkbookDiff(
        added_sheets=[s for s in new.order if s not in old.sheets],
        removed_sheets=[s for s in old.order if s not in new.sheets],
    )
    counts = {"changed_formulas": 0, "changed_values": 0, "new_hardcoded": 0}
    for name in new.order:
        if name not in old.sheets:
            continue
        a, b = old.sheets[name], new.sheets[name]
        keys = set(a.values) | set(b.values) | a.formula_cells | b.formula_cells
        for row, col in sorted(keys):
            fa, fb = a.formula(row, col), b.formula(row, col)
            va, vb = a.value(row, col), b.value(row, col)
            base = {"sheet": name, "cell": cell_ref(row, col)}
            if fa is not None and fb is None and isinstance(vb, float):
                counts["new_hardcoded"] += 1
                if len(result.new_hardcoded) < LIMIT:
                    result.new_hardcoded.append({**base, "old_formula": fa, "new_value": vb})
                continue
            if fa != fb:
                counts["changed_formulas"] += 1
                if len(result.changed_formulas) < LIMIT:
                    result.changed_formulas.append({**base, "old_formula": fa, "new_formula": fb,
                                                    "old_value": va, "new_value": vb})
                continue
            if not _same(va, vb):
                counts["changed_values"] += 1
                if len(result.changed_values) < LIMIT:
                    result.changed_values.append({**base, "old_value": va, "new_value": vb,
                                                  "formula": fb})
    result.counts = counts
    return result


def compare_checks(old_report: dict | None, new_report: dict | None) -> list[dict[str, Any]]:
    """Each check's status in both versions, marked where it changed."""
    old = {c["id"]: c for c in (old_report or {}).get("checks", [])}
    new = {c["id"]: c for c in (new_report or {}).get("checks", [])}
    rows = []
    for check_id in list(dict.fromkeys([*old, *new])):
        a, b = old.get(check_id, {}), new.get(check_id, {})
        rows.append({"check": check_id, "old": a.get("status", "—"), "new": b.get("status", "—"),
                     "old_findings": len(a.get("findings", [])), "new_findings": len(b.get("findings", [])),
                     "changed": a.get("status") != b.get("status")})
    return rows


def sheet_grid(sheet: Sheet, *, max_rows: int = 200, max_cols: int = 30) -> dict[str, Any]:
    """Values and formulas as row-major lists with Excel row numbers and column letters."""
    from core.validation.workbook import col_letter

    rows = min(sheet.max_row, max_rows)
    cols = min(sheet.max_col, max_cols)
    values = [[sheet.value(r, c) for c in range(1, cols + 1)] for r in range(1, rows + 1)]
    formulas = [[sheet.formula(r, c) for c in range(1, cols + 1)] for r in range(1, rows + 1)]
    return {"columns": [col_letter(c) for c in range(1, cols + 1)], "index": list(range(1, rows + 1)),
            "values": values, "formulas": formulas, "truncated": sheet.max_row > rows or sheet.max_col > cols}
