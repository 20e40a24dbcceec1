"""The checks. Each takes the read workbook and returns one CheckResult whose findings
name sheet, cell and period, so the review page can point at them.

A check never passes on numbers it could not read: a line with no value in a period
is a finding, not a silent skip.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.validation import locate
from core.validation.locate import Layout
from core.validation.report import CheckResult
from core.validation.workbook import Workbook, cell_ref

LABELS = {
    "total_assets": "Total Assets", "total_le": "Total Liabilities and Equity", "net_income": "Net Income",
    "cash": "Cash and Cash Equivalents", "ending_cash": "Ending Cash", "revenue": "Revenue",
    "dcf_price_target": "DCF Price Target", "comps_price_target": "Comps Price Target",
    "final_price_target": "Final Price Target",
}
ROLE_TITLES = {"income": "Income Statement", "balance": "Balance Sheet", "cash": "Cash Flow",
               "drivers": "Revenue Drivers", "valuation": "Valuation"}


def tolerance(a: float, b: float, floor: float | None = None) -> float:
    """How far two figures may differ: `floor` (an activity's `tolerance` parameter,
    default 0.5) or 0.05% of the larger, whichever is more."""
    return max(0.5 if floor is None else floor, 0.0005 * max(abs(a), abs(b)))


def fmt(value: float | None) -> str:
    return "no value" if value is None else f"{value:,.2f}"


class Context:
    """Sheets and layouts found once, shared by every check."""

    def __init__(self, workbook: Workbook, required_sheets: list[str], params: dict[str, dict] | None = None):
        self.workbook = workbook
        self.required_sheets = required_sheets
        self.params = params or {}  # check id -> its parameters (core.rules.CHECK_PARAMS)
        self._layouts: dict[str, Layout | None] = {}

    def sheet(self, role: str):
        return locate.find_sheet(self.workbook, role)

    def layout(self, role: str) -> Layout | None:
        if role not in self._layouts:
            sheet = self.sheet(role)
            self._layouts[role] = locate.layout(sheet) if sheet is not None else None
        return self._layouts[role]


def _need(ctx: Context, result: CheckResult, role: str) -> Layout | None:
    """The layout of a statement sheet, or a skip/failure saying why there is none."""
    sheet = ctx.sheet(role)
    title = ROLE_TITLES[role]
    if sheet is None:
        # required_sheets reports the missing sheet itself; do not count it twice.
        result.skip(f"No {title} sheet was found, so this check could not run.")
        return None
    lay = ctx.layout(role)
    if lay is None:
        result.fail(f"Sheet '{sheet.name}' has no header row of year labels (2024, FY2025E ...), so its "
                    "periods could not be found.", sheet=sheet.name)
        return None
    return lay


def _line(lay: Layout, result: CheckResult, key: str) -> int | None:
    row = lay.find(key)
    if row is None:
        result.fail(f"No '{LABELS[key]}' line was found on sheet '{lay.sheet.name}' (looked for labels such as "
                    f"{', '.join(sorted(locate.LINE_ALIASES[key])[:3])}).", sheet=lay.sheet.name)
    return row


def _need_line(ctx: Context, result: CheckResult, role: str, key: str) -> tuple[Layout | None, int | None]:
    """A statement sheet's layout and the row of the line a check is about, each None
    (with the skip or failure recorded) when it is not there."""
    lay = _need(ctx, result, role)
    return (None, None) if lay is None else (lay, _line(lay, result, key))


def required_sheets(ctx: Context) -> CheckResult:
    result = CheckResult("required_sheets")
    for name in ctx.required_sheets:
        role = locate.role_for_required(name)
        found = ctx.sheet(role) if role else next(
            (s for s in ctx.workbook.order if locate.normalize(s) == locate.normalize(name)), None)
        if not found:
            result.fail(f"The workbook has no '{name}' sheet (sheets found: {', '.join(ctx.workbook.order)}).",
                        expected=name, actual=None)
    return result


def no_error_values(ctx: Context) -> CheckResult:
    result = CheckResult("no_error_values")
    for name in ctx.workbook.order:
        sheet = ctx.workbook.sheets[name]
        if not sheet.error_cells:
            continue
        lay = locate.layout(sheet)
        for (row, col), code in sorted(sheet.error_cells.items()):
            period = lay.period_of_col(col) if lay else None
            label = lay.raw_labels.get(row) if lay else None
            where = f"'{name}'!{cell_ref(row, col)}" + (f" ({label})" if label else "")
            result.fail(f"{code} error in {where}.", sheet=name, cell=cell_ref(row, col),
                        period=period.label if period else None, expected="a number", actual=code)
    return result


def _per_period(result: CheckResult, lay: Layout, row: int, key: str):
    """Yield (period, value); a missing value is a finding."""
    for period in lay.periods:
        value = lay.number(row, period)
        if value is None:
            result.fail(f"'{LABELS.get(key, key)}' has no number for {period.label} in '{lay.sheet.name}'!"
                        f"{lay.ref(row, period)}.", sheet=lay.sheet.name, cell=lay.ref(row, period),
                        period=period.label, expected="a number", actual=lay.sheet.value(row, period.col))
            continue
        yield period, value


def bs_balances(ctx: Context) -> CheckResult:
    result = CheckResult("bs_balances")
    lay, assets_row = _need_line(ctx, result, "balance", "total_assets")
    if lay is None:
        return result
    le_row = lay.find("total_le")
    parts = None
    if le_row is None:
        tl, te = lay.find("total_liabilities"), lay.find("total_equity")
        if tl is not None and te is not None:
            parts = (tl, te)
        else:
            _line(lay, result, "total_le")
    if assets_row is None or (le_row is None and parts is None):
        return result
    for period, assets in _per_period(result, lay, assets_row, "total_assets"):
        if le_row is not None:
            other = lay.number(le_row, period)
            other_ref = lay.ref(le_row, period)
        elif parts is not None:  # always, by the guard above
            a, b = lay.number(parts[0], period), lay.number(parts[1], period)
            other = None if a is None or b is None else a + b
            other_ref = f"{lay.ref(parts[0], period)}+{lay.ref(parts[1], period)}"
        if other is None:
            result.fail(f"Total liabilities and equity has no number for {period.label} ('{lay.sheet.name}'!"
                        f"{other_ref}).", sheet=lay.sheet.name, cell=other_ref, period=period.label,
                        expected="a number", actual=None)
            continue
        if abs(assets - other) > tolerance(assets, other, ctx.params.get("bs_balances", {}).get("tolerance")):
            result.fail(f"The balance sheet does not balance in {period.label}: total assets "
                        f"{fmt(assets)} ({lay.ref(assets_row, period)}) vs total liabilities and equity "
                        f"{fmt(other)} ({other_ref}), a difference of {fmt(assets - other)}.",
                        sheet=lay.sheet.name, cell=lay.ref(assets_row, period), period=period.label,
                        expected=other, actual=assets)
    return result


def _tie(ctx: Context, check_id: str, left: tuple[str, str], right: tuple[str, str], what: str) -> CheckResult:
    """Compare line left[1] on sheet role left[0] with right[1] on right[0], matching periods by year."""
    result = CheckResult(check_id)
    lay_l = _need(ctx, result, left[0])
    if lay_l is None:
        return result
    lay_r = _need(ctx, result, right[0])
    if lay_r is None:
        return result
    row_l, row_r = _line(lay_l, result, left[1]), _line(lay_r, result, right[1])
    if row_l is None or row_r is None:
        return result
    by_year = {p.year: p for p in lay_l.periods}
    common = [p for p in lay_r.periods if p.year in by_year]
    if not common:
        result.fail(f"'{lay_l.sheet.name}' and '{lay_r.sheet.name}' share no periods to compare.",
                    sheet=lay_r.sheet.name)
        return result
    for period_r in common:
        period_l = by_year[period_r.year]
        a, b = lay_l.number(row_l, period_l), lay_r.number(row_r, period_r)
        if a is None or b is None:
            missing = (lay_l, row_l, period_l) if a is None else (lay_r, row_r, period_r)
            result.fail(f"{what}: no number in '{missing[0].sheet.name}'!{missing[0].ref(missing[1], missing[2])} "
                        f"for {missing[2].label}.", sheet=missing[0].sheet.name,
                        cell=missing[0].ref(missing[1], missing[2]), period=missing[2].label,
                        expected="a number", actual=None)
            continue
        if abs(a - b) > tolerance(a, b, ctx.params.get(check_id, {}).get("tolerance")):
            result.fail(f"{what} in {period_r.label}: '{lay_r.sheet.name}'!{lay_r.ref(row_r, period_r)} is "
                        f"{fmt(b)} but '{lay_l.sheet.name}'!{lay_l.ref(row_l, period_l)} is {fmt(a)} "
                        f"(difference {fmt(b - a)}).", sheet=lay_r.sheet.name, cell=lay_r.ref(row_r, period_r),
                        period=period_r.label, expected=a, actual=b)
    return result


def cash_ties(ctx: Context) -> CheckResult:
    return _tie(ctx, "cash_ties", ("balance", "cash"), ("cash", "ending_cash"),
                "Cash-flow ending cash does not match balance-sheet cash")


def net_income_ties(ctx: Context) -> CheckResult:
    return _tie(ctx, "net_income_ties", ("income", "net_income"), ("cash", "net_income"),
                "Cash-flow net income does not match income-statement net income")


def forecast_formulas(ctx: Context) -> CheckResult:
    result = CheckResult("forecast_formulas")
    checked, missing = 0, []
    for role in ("income", "balance", "cash"):
        if ctx.sheet(role) is None:
            missing.append(ROLE_TITLES[role])  # required_sheets reports it
            continue
        lay = _need(ctx, result, role)
        if lay is None:
            continue
        forecast = lay.forecast_periods
        if not forecast:
            result.fail(f"Sheet '{lay.sheet.name}' has no forecast periods (labels like 2025E or FY2026F, or "
                        "years after the last actual).", sheet=lay.sheet.name)
            continue
        cols = {p.col: p for p in forecast}
        for (row, col), value in sorted(lay.sheet.values.items()):
            if row <= lay.header_row or col not in cols or not isinstance(value, float):
                continue
            checked += 1
            if not lay.sheet.is_formula(row, col):
                label = lay.raw_labels.get(row, f"row {row}")
                result.fail(f"'{lay.sheet.name}'!{cell_ref(row, col)} ({label}, {cols[col].label}) is a typed-in "
                            "number; forecast cells must be formulas that link to the drivers.",
                            sheet=lay.sheet.name, cell=cell_ref(row, col), period=cols[col].label,
                            expected="a formula", actual=value)
    if missing:
        result.note = f"Not checked (sheet missing): {', '.join(missing)}."
        if checked == 0 and result.status == "passed":
            result.skip(result.note)
            return result
    if checked == 0 and result.status == "passed":
        result.fail("The forecast columns hold no numbers, so there is nothing that could be checked.")
    return result


_Q = re.compile(r"\(q\)|\bvolume\b|\bunits?\b|\bquantity\b|\bdeliveries\b|\btrips\b|\bnights\b|\btransactions\b|"
                r"\bshipments\b|\bhectolit(?:er|re)s\b|\bgmv\b|\bcases\b|\bshop visits\b|\bflight hours\b", re.I)
_P = re.compile(r"\(p\)|\bprice\b|\basp\b|\badr\b|\baverage (?:fare|ticket|selling price)\b|\bavg\b|\byield\b|"
                r"\brevenue per\b|\bper unit\b", re.I)
_T = re.compile(r"\(t\)|\btake[- ]?rate\b", re.I)


def _driver_rows(lay: Layout) -> tuple[list[int], list[int], list[int]]:
    q, p, t = [], [], []
    for row, raw in sorted(lay.raw_labels.items()):
        if _T.search(raw):
            t.append(row)
        elif "(p)" in raw.lower() or ("(q)" not in raw.lower() and _P.search(raw)):
            p.append(row)
        elif _Q.search(raw):
            q.append(row)
    return q, p, t


def revenue_build(ctx: Context) -> CheckResult:
    result = CheckResult("revenue_build")
    lay, rev_row = _need_line(ctx, result, "drivers", "revenue")
    if lay is None:
        return result
    q_rows, p_rows, t_rows = _driver_rows(lay)
    if not q_rows or not p_rows:
        result.fail(f"Sheet '{lay.sheet.name}' needs a volume row (Q) and a price row (P); label them e.g. "
                    "'Units delivered (Q)' and 'Average selling price (P)'.", sheet=lay.sheet.name)
        return result
    if len(q_rows) != len(p_rows) or len(t_rows) not in (0, 1, len(q_rows)):
        result.fail(f"Sheet '{lay.sheet.name}' has {len(q_rows)} volume (Q), {len(p_rows)} price (P) and "
                    f"{len(t_rows)} take-rate (T) rows; they must pair up one-to-one.", sheet=lay.sheet.name)
        return result
    if rev_row is None:
        return result
    for period, revenue in _per_period(result, lay, rev_row, "revenue"):
        product = 0.0
        missing = None
        for i, (qr, pr) in enumerate(zip(q_rows, p_rows, strict=True)):
            rows = [qr, pr] + ([t_rows[0] if len(t_rows) == 1 else t_rows[i]] if t_rows else [])
            term = 1.0
            for r in rows:
                v = lay.number(r, period)
                if v is None:
                    missing = r
                    break
                term *= v
            if missing:
                break
            product += term
        if missing:
            result.fail(f"'{lay.sheet.name}'!{lay.ref(missing, period)} ({lay.raw_labels[missing]}) has no number "
                        f"for {period.label}.", sheet=lay.sheet.name, cell=lay.ref(missing, period),
                        period=period.label, expected="a number", actual=None)
            continue
        # Volumes in thousands against revenue in millions is a unit choice, not an error.
        scaled = min((product * scale for scale in (1, 1e-3, 1e-6, 1e-9, 1e3, 1e6)),
                     key=lambda x: abs(x - revenue))
        if abs(scaled - revenue) <= tolerance(scaled, revenue, ctx.params.get("revenue_build", {}).get("tolerance")):
            continue
        drivers = "Q × P × T" if t_rows else "Q × P"
        unit = "" if scaled == product else f" (after scaling units by {scaled / product:g})"
        result.fail(f"Revenue in {period.label} ('{lay.sheet.name}'!{lay.ref(rev_row, period)}) is {fmt(revenue)} "
                    f"but {drivers} gives {fmt(scaled)}{unit}.", sheet=lay.sheet.name, cell=lay.ref(rev_row, period),
                    period=period.label, expected=scaled, actual=revenue)
    return result


TARGETS = ("dcf_price_target", "comps_price_target", "final_price_target")


def price_targets(ctx: Context, outputs: dict[str, float]) -> CheckResult:
    result = CheckResult("price_targets")
    for key in TARGETS:
        where = locate.defined_cell(ctx.workbook, key) or locate.labelled_value(ctx.workbook, key)
        if where is None:
            result.fail(f"No '{LABELS[key]}' was found: add a cell labelled '{LABELS[key]}' or a defined name "
                        f"{key}.", expected="a positive number")
            continue
        sheet, row, col = where
        value = sheet.value(row, col)
        ref = cell_ref(row, col)
        if isinstance(value, bool) or not isinstance(value, float):
            result.fail(f"{LABELS[key]} in '{sheet.name}'!{ref} is not a number ({value!r}).", sheet=sheet.name,
                        cell=ref, expected="a positive number", actual=value)
        elif value <= 0:
            result.fail(f"{LABELS[key]} in '{sheet.name}'!{ref} is {fmt(value)}; it must be positive.",
                        sheet=sheet.name, cell=ref, expected="a positive number", actual=value)
        else:
            outputs[key] = round(value, 2)
    return result


CHECKS: dict[str, Callable[..., CheckResult]] = {
    "required_sheets": required_sheets,
    "no_error_values": no_error_values,
    "bs_balances": bs_balances,
    "cash_ties": cash_ties,
    "net_income_ties": net_income_ties,
    "forecast_formulas": forecast_formulas,
    "revenue_build": revenue_build,
    "price_targets": price_targets,
}
