"""Small company packages for the demo: a cover sheet and three historical statements
that tie, scaled to each company's size. (Demo submissions are built by
core.validation.templates and judged by the real validators; see core/demo.py.)
"""

from __future__ import annotations

import io
import random
from datetime import datetime, timezone
from dataclasses import dataclass

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

HISTORY = ["FY2021", "FY2022", "FY2023", "FY2024"]
FORECAST = ["FY2025E", "FY2026E", "FY2027E", "FY2028E", "FY2029E"]
PERIODS = HISTORY + FORECAST
FIRST_COL = 1  # column B holds the first period; column A the labels

# Revenue in USD millions (latest fiscal year, rounded) and a share price for targets.
COMPANY_SCALE = {
    "TSLA": (97_700, 250.0), "COST": (254_000, 900.0), "SHOP": (8_900, 110.0), "UBER": (44_000, 75.0),
    "ABNB": (11_100, 140.0), "DE": (51_700, 420.0), "GE": (38_700, 200.0), "KO": (47_000, 65.0),
    "BUD": (59_400, 62.0), "GSBD": (430, 13.0),
}

EQUITY = "Shareholders' Equity"
IS_ROWS = ["Revenue", "Cost of revenue", "Gross profit", "Operating expenses", "Operating income",
           "Interest expense", "Pretax income", "Income tax", "Net Income"]
BS_ROWS = ["Cash and Cash Equivalents", "Accounts receivable", "Inventory", "PP&E, net", "Total Assets",
           "Accounts payable", "Debt", "Total Liabilities", "Shareholders' Equity",
           "Total Liabilities and Shareholders' Equity"]
CF_ROWS = ["Net Income", "Depreciation & amortization", "Change in working capital",
           "Cash from operations", "Capital expenditures", "Net change in debt", "Net change in cash",
           "Beginning cash", "Ending Cash"]


def _cell(row_index: int, period_index: int) -> str:
    """A1 address of a line (0-based below the header row 1) in a period's column."""
    return f"{xl_col_to_name(FIRST_COL + period_index)}{row_index + 2}"


@dataclass
class Model:
    values: dict[str, dict[str, list[float]]]  # sheet -> line -> one value per period
    formulas: dict[str, dict[str, list[str | None]]]


def build_model(ticker: str, rng: random.Random) -> Model:
    """Three statements that tie every year; forecast cells carry the formulas that
    reproduce their values."""
    revenue0, _ = COMPANY_SCALE.get(ticker, (5_000, 50.0))
    revenue0 *= 0.8
    g = [rng.uniform(-0.02, 0.18) for _ in PERIODS]
    cr, opr, ar, inv, ap, dep, capr = (rng.uniform(0.45, 0.7), rng.uniform(0.1, 0.2), rng.uniform(0.05, 0.12),
                                       rng.uniform(0.03, 0.1), rng.uniform(0.06, 0.12), 0.1, rng.uniform(0.04, 0.08))
    IS = {k: [] for k in IS_ROWS}
    BS = {k: [] for k in BS_ROWS}
    CF = {k: [] for k in CF_ROWS}
    fIS = {k: [] for k in IS_ROWS}
    fBS = {k: [] for k in BS_ROWS}
    fCF = {k: [] for k in CF_ROWS}
    r = {name: i for i, name in enumerate(IS_ROWS)}
    b = {name: i for i, name in enumerate(BS_ROWS)}
    c = {name: i for i, name in enumerate(CF_ROWS)}
    for p, period in enumerate(PERIODS):
        fc = period in FORECAST
        col = lambda row, sheet=None, q=p: (f"'{sheet}'!" if sheet else "") + _cell(row, q)  # noqa: E731
        prev = lambda row, sheet=None: col(row, sheet, p - 1)  # noqa: E731

        def put(table, ftable, line, value, formula):
            table[line].append(round(value, 1))
            ftable[line].append(formula if fc else None)

        rev = revenue0 if p == 0 else IS["Revenue"][-1] * (1 + g[p])
        put(IS, fIS, "Revenue", rev, f"={prev(r['Revenue'])}*(1+{g[p]:.4f})")
        put(IS, fIS, "Cost of revenue", rev * cr, f"={col(r['Revenue'])}*{cr:.4f}")
        gp = IS["Revenue"][-1] - IS["Cost of revenue"][-1]
        put(IS, fIS, "Gross profit", gp, f"={col(r['Revenue'])}-{col(r['Cost of revenue'])}")
        put(IS, fIS, "Operating expenses", rev * opr, f"={col(r['Revenue'])}*{opr:.4f}")
        oi = IS["Gross profit"][-1] - IS["Operating expenses"][-1]
        put(IS, fIS, "Operating income", oi, f"={col(r['Gross profit'])}-{col(r['Operating expenses'])}")
        debt_prev = BS["Debt"][-1] if p else rev * 0.3
        put(IS, fIS, "Interest expense", debt_prev * 0.05, f"={prev(b['Debt'], 'Balance Sheet')}*0.05" if p else None)
        pti = IS["Operating income"][-1] - IS["Interest expense"][-1]
        put(IS, fIS, "Pretax income", pti, f"={col(r['Operating income'])}-{col(r['Interest expense'])}")
        put(IS, fIS, "Income tax", IS["Pretax income"][-1] * 0.21, f"={col(r['Pretax income'])}*0.21")
        ni = IS["Pretax income"][-1] - IS["Income tax"][-1]
        put(IS, fIS, "Net Income", ni, f"={col(r['Pretax income'])}-{col(r['Income tax'])}")
        ni = IS["Net Income"][-1]

        ar_v, inv_v, ap_v = rev * ar, rev * inv, rev * ap
        if p == 0:
            ppe, debt, beg_cash = rev * 0.5, rev * 0.3, rev * 0.1
            da, wc, capex, ddebt = 0.0, 0.0, 0.0, 0.0
            cash = beg_cash
            equity = cash + ar_v + inv_v + ppe - ap_v - debt
        else:
            da = BS["PP&E, net"][-1] * dep
            wc = -((ar_v + inv_v - ap_v) - (BS["Accounts receivable"][-1] + BS["Inventory"][-1]
                                            - BS["Accounts payable"][-1]))
            capex = -rev * capr
            ddebt = -BS["Debt"][-1] * 0.1
            beg_cash = CF["Ending Cash"][-1]
            cash = beg_cash + ni + da + wc + capex + ddebt
            ppe = BS["PP&E, net"][-1] - capex - da
            debt = BS["Debt"][-1] + ddebt
            equity = BS["Shareholders' Equity"][-1] + ni
        cfo = ni + da + wc
        put(CF, fCF, "Net Income", ni, f"={col(r['Net Income'], 'Income Statement')}")
        put(CF, fCF, "Depreciation & amortization", da, f"={prev(b['PP&E, net'], 'Balance Sheet')}*{dep}")
        put(CF, fCF, "Change in working capital", wc,
            "=-(({0}+{1}-{2})-({3}+{4}-{5}))".format(
                col(b["Accounts receivable"], "Balance Sheet"), col(b["Inventory"], "Balance Sheet"),
                col(b["Accounts payable"], "Balance Sheet"), prev(b["Accounts receivable"], "Balance Sheet"),
                prev(b["Inventory"], "Balance Sheet"), prev(b["Accounts payable"], "Balance Sheet")))
        put(CF, fCF, "Cash from operations", cfo,
            f"={col(c['Net Income'])}+{col(c['Depreciation & amortization'])}+{col(c['Change in working capital'])}")
        put(CF, fCF, "Capital expenditures", capex, f"=-{col(r['Revenue'], 'Income Statement')}*{capr:.4f}")
        put(CF, fCF, "Net change in debt", ddebt, f"=-{prev(b['Debt'], 'Balance Sheet')}*0.1")
        put(CF, fCF, "Net change in cash", cfo + capex + ddebt,
            f"={col(c['Cash from operations'])}+{col(c['Capital expenditures'])}+{col(c['Net change in debt'])}")
        put(CF, fCF, "Beginning cash", beg_cash, f"={prev(c['Ending Cash'])}")
        put(CF, fCF, "Ending Cash", cash, f"={col(c['Beginning cash'])}+{col(c['Net change in cash'])}")

        put(BS, fBS, "Cash and Cash Equivalents", cash, f"={col(c['Ending Cash'], 'Cash Flow')}")
        put(BS, fBS, "Accounts receivable", ar_v, f"={col(r['Revenue'], 'Income Statement')}*{ar:.4f}")
        put(BS, fBS, "Inventory", inv_v, f"={col(r['Revenue'], 'Income Statement')}*{inv:.4f}")
        put(BS, fBS, "PP&E, net", ppe,
            f"={prev(b['PP&E, net'])}-{col(c['Capital expenditures'], 'Cash Flow')}"
            f"-{col(c['Depreciation & amortization'], 'Cash Flow')}")
        put(BS, fBS, "Total Assets", cash + ar_v + inv_v + ppe, f"=SUM({col(0)}:{col(3)})")
        put(BS, fBS, "Accounts payable", ap_v, f"={col(r['Revenue'], 'Income Statement')}*{ap:.4f}")
        put(BS, fBS, "Debt", debt, f"={prev(b['Debt'])}+{col(c['Net change in debt'], 'Cash Flow')}")
        put(BS, fBS, "Total Liabilities", ap_v + debt, f"={col(b['Accounts payable'])}+{col(b['Debt'])}")
        put(BS, fBS, "Shareholders' Equity", equity,
            f"={prev(b[EQUITY])}+{col(r['Net Income'], 'Income Statement')}")
        put(BS, fBS, "Total Liabilities and Shareholders' Equity", ap_v + debt + equity,
            f"={col(b['Total Liabilities'])}+{col(b[EQUITY])}")
    return Model(values={"Income Statement": IS, "Balance Sheet": BS, "Cash Flow": CF},
                 formulas={"Income Statement": fIS, "Balance Sheet": fBS, "Cash Flow": fCF})


def build_package(*, ticker: str, company_name: str, version: int, as_of: str,
                  rng: random.Random) -> tuple[bytes, list[str], dict]:
    """A small company package: a cover sheet and four historical years of statements
    ending the fiscal year before `as_of`. Returns (xlsx bytes, fiscal years, figures as
    {sheet: {line: {year: value}}}, the shape core.packages compares versions with)."""
    model = build_model(ticker, rng)
    last = int(as_of[:4]) - 1
    years = [f"FY{y}" for y in range(last - len(HISTORY) + 1, last + 1)]
    figures = {sheet: {line: dict(zip(years, values[: len(years)])) for line, values in lines.items()}
               for sheet, lines in model.values.items()}
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    # A fixed creation time keeps the file (and its SHA-256) the same for the same seed.
    wb.set_properties({"created": datetime.fromisoformat(as_of).replace(tzinfo=timezone.utc)})
    bold = wb.add_format({"bold": True})
    cover = wb.add_worksheet("Cover")
    for i, (k, v) in enumerate([("Company", company_name), ("Ticker", ticker), ("Version", version),
                                ("Data as of", as_of), ("Note", "figures in USD millions unless stated")]):
        cover.write(i, 0, k, bold)
        cover.write(i, 1, v)
    for name, rows in (("Income Statement", IS_ROWS), ("Balance Sheet", BS_ROWS), ("Cash Flow", CF_ROWS)):
        ws = wb.add_worksheet(name)
        for j, label in enumerate(years):
            ws.write(0, FIRST_COL + j, label, bold)
        for i, line in enumerate(rows):
            ws.write(i + 1, 0, line)
            for j, year in enumerate(years):
                ws.write_number(i + 1, FIRST_COL + j, figures[name][line][year])
        ws.set_column(0, 0, 42)
    wb.close()
    return buffer.getvalue(), years, figures
