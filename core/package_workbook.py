"""The package workbook students download, written with openpyxl from Statements.

Sheets: Cover, Income Statement, Balance Sheet, Cash Flow, Revenue Drivers, Sources,
Checks. Stated figures are typed values in blue (the finance convention for inputs),
unstated subtotals are Excel formulas in black, a missing figure is an empty cell
with a comment (never a zero). A core line the filer never reports is one row saying
"not reported", never a row of empty cells. The workbook recalculates fully when opened.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.sec.checks import Finding, cash_tie_parts
from core.sec.mapping import CF, STATEMENT_SHEETS, Line, revenue_key
from core.sec.statements import Statements

SHEETS = ("Cover", *STATEMENT_SHEETS, "Revenue Drivers", "Sources", "Checks")
HEADER_ROW, FIRST_ROW = 4, 5
INPUT_FONT = Font(color="0000FF")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
FORMATS = {"money": '#,##0.0;(#,##0.0);0.0', "per_share": '0.00;(0.00);0.00', "shares": '#,##0.0'}
AUTHOR = "NGI package builder"


@dataclass(frozen=True)
class PackageInfo:
    ticker: str
    company_name: str
    fiscal_year_end: str | None
    revenue_model_type: str | None
    revenue_driver_notes: str | None
    version: int
    built_at: datetime
    # Where the companyfacts came from (file name or SEC URL), shown on the Cover so a
    # downloaded package says what it was built from.
    source_file: str | None = None


def year_col(index: int) -> str:
    return get_column_letter(2 + index)


def write_workbook(st: Statements, info: PackageInfo, findings: list[Finding]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    sheets = {name: wb.create_sheet(name) for name in SHEETS}
    positions: dict[str, tuple[str, int]] = {}
    for name in STATEMENT_SHEETS:
        _statement_sheet(sheets[name], st, info, name, positions)
    for name in STATEMENT_SHEETS:
        _fill_statement(sheets[name], st, name, positions)
    _cover(sheets["Cover"], st, info, findings)
    _drivers(sheets["Revenue Drivers"], st, info, positions)
    _sources(sheets["Sources"], st)
    _checks(sheets["Checks"], st, positions, findings)
    wb.calculation.fullCalcOnLoad = True
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _unit_note(st: Statements) -> str:
    return f"Figures in {st.currency} millions unless stated; per-share figures in {st.currency}."


def _title(ws, text: str, sub: str | None = None) -> None:
    ws["A1"] = text
    ws["A1"].font = TITLE
    if sub:
        ws["A2"] = sub
        ws["A2"].font = Font(italic=True, color="595959")


def _year_header(ws, years: list[int], first_label: str = "Line", extra: Sequence[str] = ()) -> None:
    ws.cell(HEADER_ROW, 1, first_label).font = BOLD
    for i, label in enumerate([f"FY{y}" for y in years] + list(extra)):
        cell = ws.cell(HEADER_ROW, 2 + i, label)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="right")
        ws.column_dimensions[get_column_letter(2 + i)].width = 14
    ws.column_dimensions["A"].width = 58
    ws.freeze_panes = ws.cell(FIRST_ROW, 2)


def _statement_sheet(ws, st: Statements, info: PackageInfo, name: str, positions) -> None:
    _title(ws, f"{name} — {info.company_name} ({info.ticker})", _unit_note(st))
    _year_header(ws, st.years)
    row = FIRST_ROW
    for line in st.shown_lines():
        if line.sheet != name:
            continue
        positions[line.key] = (name, row)
        row += 1
    missing = [line for line in st.not_reported_lines() if line.sheet == name]
    if missing:
        row += 1
        for line in missing:
            ws.cell(row, 1, line.label).font = Font(italic=True, color="595959")
            tried = ", ".join(line.concepts) or "its formula"
            note = ws.cell(row, 2, "not reported")
            note.font = Font(italic=True, color="595959")
            note.comment = Comment(f"{st.entity_name or 'The filer'} reports none of {tried} in any year of this "
                                   "package, so the line is left out rather than shown as empty cells.", AUTHOR,
                                   width=320, height=110)
            row += 1


def _ref(positions, key: str, year_index: int, from_sheet: str) -> str | None:
    if key not in positions:
        return None
    sheet, row = positions[key]
    addr = f"{year_col(year_index)}{row}"
    return addr if sheet == from_sheet else f"'{sheet}'!{addr}"


def formula_for(line: Line, year_index: int, positions, sheet: str, formula: tuple | None = None) -> str:
    terms = []
    for sign, key, _optional in (line.formula if formula is None else formula):
        ref = _ref(positions, key, year_index, sheet)
        if ref is not None:  # an optional line with no figures in any year is not shown
            terms.append(("-" if sign < 0 else "+") + ref)
    return "=" + "".join(terms).lstrip("+")


def _fill_statement(ws, st: Statements, name: str, positions) -> None:
    for line in st.shown_lines():
        if line.sheet != name:
            continue
        _, row = positions[line.key]
        label = ws.cell(row, 1, st.label(line))
        if line.bold:
            label.font = BOLD
        if line.note:
            label.comment = Comment(line.note, AUTHOR)
        for i, year in enumerate(st.years):
            cell = ws.cell(row, 2 + i)
            data = st.cell(line.key, year)
            cell.number_format = FORMATS[line.unit]
            if data.fact is not None:
                cell.value = data.value
                cell.font = INPUT_FONT
            elif data.derived:
                cell.value = formula_for(line, i, positions, name, st.formula(line))
                if line.bold:
                    cell.font = BOLD
            else:
                tried = ", ".join(f"{st.taxonomy}:{c}" for c in line.concepts) or "no concept (derived line)"
                cell.comment = Comment(
                    f"Not reported for FY{year} in the SEC companyfacts data (looked for {tried}). Companyfacts "
                    "holds only standard-taxonomy concepts, so a figure tagged with the filer's own extension is "
                    "not in it. Left empty on purpose: it is not zero.", AUTHOR, width=320, height=130)


def _cover(ws, st: Statements, info: PackageInfo, findings: list[Finding]) -> None:
    _title(ws, f"{info.company_name} ({info.ticker}) — learning package v{info.version}")
    newest = st.years[-1]
    rows = [
        ("Company", info.company_name),
        ("SEC entity name", st.entity_name),
        ("Ticker", info.ticker),
        ("CIK", st.cik),
        ("Fiscal year end", st.fye.describe()),
        ("Period ends", ", ".join(f"FY{y}: {st.period_ends[y].isoformat()}" for y in st.years)),
        ("Version", info.version),
        ("Data as of", st.period_ends[newest]),
        ("Fiscal years", f"FY{st.years[0]}–FY{newest}"),
        ("Accounting taxonomy", f"{st.taxonomy} ({st.template.name} template)"),
        ("Reporting currency", st.currency),
        ("Built", info.built_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Validation", "passed" if not findings else f"failed: {len(findings)} finding(s), see Checks"),
        ("Built from", info.source_file or "—"),
        ("Sources", "; ".join(f"{f['form']} {f['accession']} (filed {f['filed']})" for f in st.filings())),
        ("Note", f"Figures in {st.currency} millions unless stated."),
        ("Colours", ("Blue figures are as reported in the filings; black figures are formulas "
                     "(marked \"computed\" on Sources).")),
        ("Not reported", ", ".join(line.label for line in st.not_reported_lines()) or "—"),
    ]
    for i, (key, value) in enumerate(rows, start=3):
        ws.cell(i, 1, key).font = BOLD
        cell = ws.cell(i, 2, value)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100


def driver_labels(model_type: str | None, notes: str | None) -> tuple[list[str], list[str]]:
    """(factor labels Q, P[, T], extra components) from the revenue model and its notes."""
    model = (model_type or "QxP").replace(" ", "")
    base, *extras = model.split("+")
    factors = [f for f in base.lower().split("x") if f] or ["q", "p"]
    generic = {"q": "Volume (Q)", "p": "Price per unit (P)", "t": "Take rate (T)"}
    labels = [generic.get(f, f.upper()) for f in factors]
    text = notes or ""
    named = dict(re.findall(r"\b([QPT])\s*=\s*([^,;+]+)", text))
    if named:
        labels = [f"{f.upper()}: {named[f.upper()].strip()}" if f.upper() in named else labels[i]
                  for i, f in enumerate(factors)]
    else:
        parts = [p.strip() for p in text.split("+")[0].split("×") if p.strip()]
        if len(parts) == len(factors):
            labels = [f"{f.upper()}: {p}" for f, p in zip(factors, parts)]
    return labels, [f"{extra} revenue" for extra in extras]


def _drivers(ws, st: Statements, info: PackageInfo, positions) -> None:
    model = info.revenue_model_type or "QxP"
    _title(ws, f"Revenue drivers — {info.company_name} ({info.ticker})",
           f"Model: {model}. {info.revenue_driver_notes or ''}".strip())
    forecast = [f"FY{st.years[-1] + k}E" for k in (1, 2, 3)]
    _year_header(ws, st.years, "Driver", forecast)
    factors, extras = driver_labels(model, info.revenue_driver_notes)
    n_cols = len(st.years) + len(forecast)
    rev_key = revenue_key(st.template)
    row = FIRST_ROW
    ws.cell(row, 1, "Reported revenue (linked to the Income Statement)").font = BOLD
    for i in range(len(st.years)):
        cell = ws.cell(row, 2 + i, formula_for(Line("_", "", CF, formula=((1, rev_key, False),)), i, positions,
                                              "Revenue Drivers"))
        cell.number_format = FORMATS["money"]
    reported_row = row
    input_rows = []
    for label in factors + extras:
        row += 1
        ws.cell(row, 1, label)
        input_rows.append(row)
        for i in range(n_cols):
            cell = ws.cell(row, 2 + i)
            cell.font, cell.fill = INPUT_FONT, INPUT_FILL
            cell.number_format = "0.0%" if "take" in label.lower() or "yield" in label.lower() else "#,##0.00"
    row += 1
    ws.cell(row, 1, "Driver revenue = " + " × ".join(f.split(":")[0] for f in factors)
            + "".join(f" + {e}" for e in extras)).font = BOLD
    factor_rows, extra_rows = input_rows[: len(factors)], input_rows[len(factors):]
    for i in range(n_cols):
        col = year_col(i)
        product = "*".join(f"{col}{r}" for r in factor_rows)
        plus = "".join(f"+N({col}{r})" for r in extra_rows)
        count = ",".join(f"{col}{r}" for r in factor_rows)
        cell = ws.cell(row, 2 + i, f'=IF(COUNT({count})<{len(factor_rows)},"",{product}{plus})')
        cell.number_format = FORMATS["money"]
    driver_row = row
    row += 1
    ws.cell(row, 1, "Difference vs reported revenue")
    for i in range(len(st.years)):
        col = year_col(i)
        ws.cell(row, 2 + i, f'=IF({col}{driver_row}="","",{col}{driver_row}-{col}{reported_row})').number_format = \
            FORMATS["money"]
    ws.cell(row + 2, 1, f"Yellow cells with blue text are inputs. Choose units so that the product is in "
                        f"{st.currency} millions, like the statements.").font = Font(italic=True)


def _sources(ws, st: Statements) -> None:
    _title(ws, "Sources: where each figure comes from")
    headers = ["Statement", "Line", "Fiscal year", "Value", "Unit", "Taxonomy", "Concept", "Form", "Accession",
               "Filed", "Period", "Filing index"]
    for i, head in enumerate(headers, start=1):
        cell = ws.cell(3, i, head)
        cell.font, cell.fill = BOLD, HEADER_FILL
    row = 4
    for line in st.shown_lines():
        for year in st.years:
            data = st.cell(line.key, year)
            values: list[str | float | date | None] = [line.sheet, st.label(line), f"FY{year}", data.value]
            if data.fact is not None:
                f = data.fact
                period = f"{f.start.isoformat()} to {f.end.isoformat()}" if f.start else f"at {f.end.isoformat()}"
                values += [f.unit, f.taxonomy, f.concept, f.form, f.accn, f.filed, period, f.filing_url]
            elif data.derived:
                values += [st.currency, "", "formula: " + " ".join(
                    ("- " if s < 0 else "+ ") + st.template.line(k).label for s, k, _ in st.formula(line)
                    if st.reported(k)).lstrip("+ "), "computed"]
            else:
                values += ["", "", "not reported"]
            for col, value in enumerate(values, start=1):
                cell = ws.cell(row, col, value)
                if isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
            if data.fact is not None:
                link = ws.cell(row, 12)
                link.hyperlink = data.fact.filing_url
                link.style = "Hyperlink"
            ws.cell(row, 4).number_format = FORMATS[line.unit]
            row += 1
    for line in st.not_reported_lines():
        ws.cell(row, 1, line.sheet)
        ws.cell(row, 2, line.label)
        ws.cell(row, 3, "all years")
        ws.cell(row, 7, "not reported: " + (", ".join(line.concepts) or "no concept"))
        row += 1
    for letter, width in zip("ABCDEFGHIJKL", (18, 50, 11, 14, 12, 10, 60, 8, 22, 11, 26, 40)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "C4"


def _roll_forward_block(ws, row: int, st: Statements, positions) -> None:
    """Previous ending cash + net change = ending cash, live, from the second year on."""
    ws.cell(row, 1, "Roll-forward: previous ending cash + net change in cash = ending cash").font = BOLD
    for offset, text in enumerate(("Ending cash (Cash Flow)", "Previous ending cash + net change in cash",
                                   "Difference", "Status"), start=1):
        ws.cell(row + offset, 1, text)
    for i in range(len(st.years)):
        col = year_col(i)
        ending = _ref(positions, "ending_cash", i, "Checks")
        change = _ref(positions, "net_change_cash", i, "Checks")
        prev = _ref(positions, "ending_cash", i - 1, "Checks") if i else None
        ws.cell(row + 1, 2 + i, f"={ending}" if ending else None).number_format = FORMATS["money"]
        ws.cell(row + 2, 2 + i, f"={prev}+{change}" if prev and change else None).number_format = FORMATS["money"]
        ca, cb = f"{col}{row + 1}", f"{col}{row + 2}"
        ws.cell(row + 3, 2 + i, f'=IF(COUNT({ca},{cb})<2,"",{ca}-{cb})').number_format = FORMATS["money"]
        ws.cell(row + 4, 2 + i, f'=IF(COUNT({ca},{cb})<2,"n/a",IF(ABS({ca}-{cb})<=MAX(0.5,0.0005*MAX(ABS({ca}),'
                                f'ABS({cb}))),"OK","CHECK"))').font = BOLD


def _checks(ws, st: Statements, positions, findings: list[Finding]) -> None:
    _title(ws, "Checks", "Formulas recalculate when the workbook opens; tolerance is max(0.5, 0.05%).")
    _year_header(ws, st.years, "Check")
    row = FIRST_ROW

    def ref(key, i):
        return _ref(positions, key, i, "Checks")

    def block(title, a_label, a_key, b_label, b_terms):
        nonlocal row
        ws.cell(row, 1, title).font = BOLD
        ws.cell(row + 1, 1, a_label)
        ws.cell(row + 2, 1, b_label)
        ws.cell(row + 3, 1, "Difference")
        ws.cell(row + 4, 1, "Status")
        for i in range(len(st.years)):
            col = year_col(i)
            a = ref(a_key, i)
            b = "+".join(t for t in (ref(k, i) for k in b_terms(i)) if t)
            ws.cell(row + 1, 2 + i, f"={a}" if a else None).number_format = FORMATS["money"]
            ws.cell(row + 2, 2 + i, f"={b}" if b else None).number_format = FORMATS["money"]
            ca, cb = f"{col}{row + 1}", f"{col}{row + 2}"
            ws.cell(row + 3, 2 + i, f"=IF(COUNT({ca},{cb})<2,\"\",{ca}-{cb})").number_format = FORMATS["money"]
            ws.cell(row + 4, 2 + i, f'=IF(COUNT({ca},{cb})<2,"n/a",IF(ABS({ca}-{cb})<=MAX(0.5,0.0005*MAX(ABS({ca}),'
                                    f'ABS({cb}))),"OK","CHECK"))').font = BOLD
        row += 6

    block("Balance: assets = liabilities + equity", "Total assets (Balance Sheet)", "total_assets",
          "Total liabilities and equity (Balance Sheet)", lambda i: ["total_liabilities_and_equity"])

    def cash_terms(i):
        includes, _, _ = cash_tie_parts(st, st.years[i])
        return ["cash", "restricted_cash"] if includes else ["cash"]

    block("Cash tie: ending cash = balance-sheet cash (+ restricted cash, current and non-current, where included)",
          "Ending cash (Cash Flow)", "ending_cash",
          "Cash and equivalents (+ restricted cash total) (Balance Sheet)", cash_terms)
    _roll_forward_block(ws, row, st, positions)
    row += 6
    ws.cell(row, 1, "Validation at build time").font = BOLD
    row += 1
    if not findings:
        ws.cell(row, 1, "All checks passed.")
    for finding in findings:
        ws.cell(row, 1, finding.message).alignment = Alignment(wrap_text=False)
        row += 1
