"""Finding sheets, periods and lines by meaning rather than by fixed cells.

Students rename sheets, insert rows and add notes, so every lookup goes through
aliases: a sheet by its name, a period by a header row of year labels, a line by the
label in the first text cell of its row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.validation.workbook import Sheet, Workbook, cell_ref


def normalize(label: str) -> str:
    """'Total Liabilities & Shareholders’ Equity:' -> 'total liabilities and shareholders equity'."""
    text = str(label).lower().replace("’", "'").replace("'", "").replace("&", " and ")
    text = re.sub(r"\([^)]*\)", " ", text)
    text = re.sub(r"[^a-z0-9%]+", " ", text)
    return " ".join(text.split())


def _aliases(*names: str) -> frozenset[str]:
    return frozenset(normalize(n) for n in names)


SHEET_ALIASES: dict[str, frozenset[str]] = {
    "income": _aliases("Income Statement", "IS", "P&L", "PnL", "Profit and Loss", "Income Stmt",
                       "Statement of Operations", "Statement of Income", "Income"),
    "balance": _aliases("Balance Sheet", "BS", "B/S", "Balance", "Statement of Financial Position"),
    "cash": _aliases("Cash Flow", "Cash Flow Statement", "CF", "CFS", "Cash Flows", "Statement of Cash Flows",
                     "Cashflow"),
    "drivers": _aliases("Revenue Drivers", "Drivers", "Revenue Build", "Revenue Model", "Drivers Map",
                        "Revenue Drivers Map", "Revenue"),
    "valuation": _aliases("Valuation", "DCF", "Val", "DCF and Comps", "Valuation Summary"),
}

# The catalogue's required sheet names, mapped to the role their aliases describe.
ROLE_OF_NAME = {"income statement": "income", "balance sheet": "balance", "cash flow": "cash",
                "revenue drivers": "drivers", "valuation": "valuation"}

LINE_ALIASES: dict[str, frozenset[str]] = {
    "total_assets": _aliases("Total Assets"),
    "total_le": _aliases("Total Liabilities and Equity", "Total Liabilities and Shareholders' Equity",
                         "Total Liabilities and Stockholders' Equity", "Total Liabilities and Shareholder Equity",
                         "Total Liabilities and Stockholder Equity", "Total Liabilities and Owners' Equity",
                         "Total Equity and Liabilities"),
    "total_liabilities": _aliases("Total Liabilities"),
    "total_equity": _aliases("Total Equity", "Total Shareholders' Equity", "Total Stockholders' Equity",
                             "Total Shareholder Equity", "Total Stockholder Equity"),
    "net_income": _aliases("Net Income", "Net Income (Loss)", "Net Earnings", "Net Profit", "Profit for the Year",
                           "Net Income Attributable to Common Shareholders"),
    "cash": _aliases("Cash and Cash Equivalents", "Cash and Equivalents", "Cash"),
    "ending_cash": _aliases("Ending Cash", "Cash at End of Period", "Cash at End of Year", "Cash End of Period",
                            "Ending Cash Balance", "End of Period Cash", "Closing Cash",
                            "Cash and Cash Equivalents at End of Period", "Cash and Cash Equivalents End of Period",
                            "Cash and Cash Equivalents at End of Year"),
    "revenue": _aliases("Revenue", "Revenues", "Total Revenue", "Total Revenues", "Net Revenue", "Net Revenues",
                        "Net Sales", "Sales", "Total Net Revenue"),
    "dcf_price_target": _aliases("DCF Price Target", "DCF Target Price", "DCF Implied Price",
                                 "DCF Implied Share Price"),
    "comps_price_target": _aliases("Comps Price Target", "Comparables Price Target", "Comps Target Price",
                                   "Trading Comps Price Target", "Comps Implied Price"),
    "final_price_target": _aliases("Final Price Target", "Final Target Price", "Price Target", "Target Price"),
}

_YEAR = re.compile(r"^(?:fy|cy)?\s*'?(\d{4}|\d{2})\s*([aefpb]|act|est|fcst|proj)?$", re.I)


@dataclass(frozen=True)
class Period:
    label: str
    year: int
    col: int
    forecast: bool


@dataclass
class Layout:
    """A statement-like sheet: where its periods and labels are."""

    sheet: Sheet
    header_row: int
    periods: list[Period]
    labels: dict[int, str]  # row -> normalised label
    raw_labels: dict[int, str]

    def find(self, key: str) -> int | None:
        aliases = LINE_ALIASES[key]
        return next((row for row, label in self.labels.items() if label in aliases), None)

    def rows_matching(self, predicate) -> list[int]:
        return [row for row, raw in self.raw_labels.items() if predicate(raw)]

    def number(self, row: int, period: Period):
        value = self.sheet.value(row, period.col)
        return float(value) if isinstance(value, float | int) and not isinstance(value, bool) else None

    def ref(self, row: int, period: Period) -> str:
        return cell_ref(row, period.col)

    def period_of_col(self, col: int) -> Period | None:
        return next((p for p in self.periods if p.col == col), None)

    @property
    def forecast_periods(self) -> list[Period]:
        return [p for p in self.periods if p.forecast]


def find_sheet(workbook: Workbook, role: str) -> Sheet | None:
    aliases = SHEET_ALIASES[role]
    for name in workbook.order:
        if normalize(name) in aliases:
            return workbook.sheets[name]
    return None


def role_for_required(name: str) -> str | None:
    return ROLE_OF_NAME.get(normalize(name))


def parse_year(value) -> tuple[int, str | None] | None:
    """(year, suffix) for a year header: 2024, '2025E', 'FY2026F', "FY'24A"; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float | int):
        if float(value).is_integer() and 1990 <= value <= 2100:
            return int(value), None
        return None
    if not isinstance(value, str):
        return None
    m = _YEAR.match(value.strip())
    if not m:
        return None
    digits, suffix = m.group(1), (m.group(2) or "").lower() or None
    year = int(digits) if len(digits) == 4 else 2000 + int(digits)
    if len(digits) == 2 and not value.strip().lower().startswith(("fy", "cy", "'")) and suffix is None:
        return None  # a bare two-digit number is a value, not a year
    if not 1990 <= year <= 2100:
        return None
    return year, suffix


def layout(sheet: Sheet, *, scan_rows: int = 40) -> Layout | None:
    """Find the header row with the most year labels (at least two) in the top rows."""
    best: tuple[int, list[tuple[int, int, str | None, str]]] | None = None
    by_row: dict[int, list[tuple[int, int, str | None, str]]] = {}
    for (row, col), value in sheet.values.items():
        if row > scan_rows:
            continue
        parsed = parse_year(value)
        if parsed:
            label = str(int(value)) if isinstance(value, float) else str(value).strip()
            by_row.setdefault(row, []).append((col, parsed[0], parsed[1], label))
    for row in sorted(by_row):
        cells = by_row[row]
        if len(cells) >= 2 and (best is None or len(cells) > len(best[1])):
            best = (row, cells)
    if best is None:
        return None
    header_row, cells = best
    cells.sort()
    periods = _classify(cells, _markers(sheet, header_row, cells[0][0]))
    first_col = min(p.col for p in periods)
    raw_labels: dict[int, str] = {}
    for (row, col), value in sorted(sheet.values.items()):
        if row <= header_row or col >= first_col or row in raw_labels:
            continue
        if isinstance(value, str) and value.strip() and parse_year(value) is None:
            raw_labels[row] = value.strip()
    labels = {row: normalize(raw) for row, raw in raw_labels.items()}
    return Layout(sheet=sheet, header_row=header_row, periods=periods, labels=labels, raw_labels=raw_labels)


_FORECAST_WORDS = re.compile(r"forecast|projected|projection|estimate|budget|outlook", re.I)
_ACTUAL_WORDS = re.compile(r"actual|historical|reported", re.I)


def _markers(sheet: Sheet, header_row: int, first_col: int) -> dict[int, bool]:
    """'Historical' / 'Forecast' banners in the rows just above the header, as column -> forecast.

    A banner usually sits in the first cell of a merged range, so it applies rightwards
    until the next banner.
    """
    found = {}
    for (row, col), value in sheet.values.items():
        # Only over the period columns: a title such as "Forecast model" in column A is no banner.
        if header_row - 3 <= row < header_row and col >= first_col and isinstance(value, str):
            if _FORECAST_WORDS.search(value):
                found[col] = True
            elif _ACTUAL_WORDS.search(value):
                found[col] = False
    return found


def _classify(cells: list[tuple[int, int, str | None, str]], markers: dict[int, bool] | None = None) -> list[Period]:
    forecast_suffix = {"e", "f", "p", "b", "est", "fcst", "proj"}
    if markers and not any(suffix for _c, _y, suffix, _l in cells):
        starts = sorted(markers)
        periods = []
        for col, year, _suffix, label in cells:
            banner = max((c for c in starts if c <= col), default=None)
            periods.append(Period(label=label, year=year, col=col,
                                  forecast=bool(banner is not None and markers[banner])))
        return periods
    actual_years = [year for _c, year, suffix, _l in cells if suffix in ("a", "act")]
    suffixed = [year for _c, year, suffix, _l in cells if suffix in forecast_suffix]
    if actual_years:
        last_actual = max(actual_years)
    elif suffixed:
        # Unsuffixed years before the first estimate are actuals.
        last_actual = max([y for _c, y, s, _l in cells if s is None and y < min(suffixed)], default=min(suffixed) - 1)
    else:
        last_actual = None
    periods = []
    for col, year, suffix, label in cells:
        forecast = suffix in forecast_suffix or (last_actual is not None and year > last_actual)
        periods.append(Period(label=label, year=year, col=col, forecast=forecast))
    return periods


def defined_cell(workbook: Workbook, name: str) -> tuple[Sheet, int, int] | None:
    """Resolve a workbook-level defined name that points at one cell."""
    target = workbook.defined_names.get(name.lower())
    if not target:
        return None
    m = re.fullmatch(r"'?(.+?)'?!\$?([A-Z]{1,3})\$?(\d+)", target.replace("''", "'"))
    if not m or m.group(1) not in workbook.sheets:
        return None
    from core.validation.workbook import col_number

    return workbook.sheets[m.group(1)], int(m.group(3)), col_number(m.group(2))


def labelled_value(workbook: Workbook, key: str) -> tuple[Sheet, int, int] | None:
    """The first cell right of a label matching `key` on any sheet (the value cell)."""
    aliases = LINE_ALIASES[key]
    for name in workbook.order:
        sheet = workbook.sheets[name]
        texts = sorted((rc, v) for rc, v in sheet.values.items() if isinstance(v, str))
        for (row, col), value in texts:
            if normalize(value) in aliases:
                for c in range(col + 1, max(sheet.max_col, col + 1) + 1):
                    if (row, c) in sheet.values or (row, c) in sheet.formula_cells:
                        return sheet, row, c
                return sheet, row, col + 1
    return None
