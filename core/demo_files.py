"""Real, small workbooks for the demo cohort, and the validator report each one earns.

A demo submission is a genuine .xlsx: three tied statements whose forecast columns are
formulas (with cached values, as Excel saves them), plus a drivers sheet or a valuation
sheet. A failing variant breaks exactly one thing, and its report names the sheet, cell
and period where the break is, so the review page shows findings that match the file.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

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

# Failure modes per activity: (check id that fails, short description).
FAILURES = {
    "a1_drivers_map": ["revenue_build", "no_error_values"],
    "a2_wc_debt": ["bs_balances", "forecast_formulas"],
    "capstone": ["bs_balances", "price_targets"],
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


class _PlainFormulaSheet(Worksheet):
    """Our formulas use only arithmetic and SUM, so XlsxWriter's rewrite of Excel 365
    function names (40 regexes per formula, most of the build time) is skipped."""

    def _prepare_formula(self, formula, expand_future_functions=False):
        return formula[1:] if formula.startswith("=") else formula


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


def _finding(sheet, line_rows, line, period, message, expected, actual):
    return {"sheet": sheet, "cell": _cell(line_rows.index(line), PERIODS.index(period)), "period": period,
            "message": message, "expected": expected, "actual": actual}


def build_submission(
    *, ticker: str, activity: str, failure: str | None, rng: random.Random,
    targets: dict[str, float] | None = None, statements: bool = True,
) -> tuple[bytes, dict]:
    """(xlsx bytes, validator report) for one demo submission."""
    model = build_model(ticker, rng)
    checks_failed: dict[str, list[dict]] = {}
    period = rng.choice(FORECAST[1:4])
    p = PERIODS.index(period)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = wb.add_format({"bold": True})
    number = wb.add_format({"num_format": "#,##0.0"})

    def sheet(name, rows, values, formulas):
        ws = wb.add_worksheet(name, worksheet_class=_PlainFormulaSheet)
        ws.write(0, 0, "USD millions", bold)
        for j, label in enumerate(PERIODS):
            ws.write(0, FIRST_COL + j, label, bold)
        for i, line in enumerate(rows):
            ws.write(i + 1, 0, line)
            for j in range(len(PERIODS)):
                value, formula = values[line][j], formulas[line][j]
                if formula:
                    ws.write_formula(i + 1, FIRST_COL + j, formula, number, value)
                else:
                    ws.write_number(i + 1, FIRST_COL + j, value, number)
        ws.set_column(0, 0, 42)
        ws.set_column(1, len(PERIODS), 12)

    if activity == "a1_drivers_map":
        _drivers_sheet(wb, model, failure, period, checks_failed, bold, number, rng)
    if statements and activity != "a1_drivers_map":
        v, f = model.values, model.formulas
        if failure == "bs_balances":
            # An equity plug in one forecast year: the balance sheet stops balancing there.
            plug = round(rng.uniform(150, 2_500), 1)
            eq = "Shareholders' Equity"
            f["Balance Sheet"][eq][p] = f"{f['Balance Sheet'][eq][p]}+{plug}"
            for q in range(p, len(PERIODS)):
                v["Balance Sheet"][eq][q] = round(v["Balance Sheet"][eq][q] + plug, 1)
                total = "Total Liabilities and Shareholders' Equity"
                v["Balance Sheet"][total][q] = round(v["Balance Sheet"][total][q] + plug, 1)
            checks_failed["bs_balances"] = [
                _finding("Balance Sheet", BS_ROWS, "Total Liabilities and Shareholders' Equity", q,
                         f"Total assets do not equal total liabilities and equity in {q}.",
                         v["Balance Sheet"]["Total Assets"][PERIODS.index(q)],
                         v["Balance Sheet"]["Total Liabilities and Shareholders' Equity"][PERIODS.index(q)])
                for q in PERIODS[p:]
            ]
        if failure == "forecast_formulas":
            f["Income Statement"]["Revenue"][p] = None  # typed over with a number
            checks_failed["forecast_formulas"] = [_finding(
                "Income Statement", IS_ROWS, "Revenue", period,
                f"Revenue in forecast period {period} is a hard-coded number; forecasts must be formulas.",
                "a formula", v["Income Statement"]["Revenue"][p])]
        sheet("Income Statement", IS_ROWS, v["Income Statement"], f["Income Statement"])
        sheet("Balance Sheet", BS_ROWS, v["Balance Sheet"], f["Balance Sheet"])
        sheet("Cash Flow", CF_ROWS, v["Cash Flow"], f["Cash Flow"])
    outputs: dict[str, float] = {}
    if activity == "capstone":
        outputs = _valuation_sheet(wb, targets or {}, failure, checks_failed, bold, number)
    wb.close()

    spec_checks = {
        "a1_drivers_map": ["required_sheets", "no_error_values", "revenue_build"],
        "a2_wc_debt": ["required_sheets", "no_error_values", "bs_balances", "cash_ties", "net_income_ties",
                       "forecast_formulas"],
        "capstone": ["required_sheets", "no_error_values", "bs_balances", "cash_ties", "net_income_ties",
                     "forecast_formulas", "price_targets"],
    }[activity]
    checks = [
        {"id": check, "status": "failed" if check in checks_failed else "passed",
         "findings": checks_failed.get(check, [])}
        for check in spec_checks
    ]
    status = "failed" if checks_failed else "passed"
    return buffer.getvalue(), {"status": status, "checks": checks, "outputs": outputs}


def _drivers_sheet(wb, model, failure, period, checks_failed, bold, number, rng):
    ws = wb.add_worksheet("Revenue Drivers", worksheet_class=_PlainFormulaSheet)
    ws.write(0, 0, "USD millions unless stated", bold)
    hist = HISTORY
    for j, label in enumerate(hist):
        ws.write(0, FIRST_COL + j, label, bold)
    revenue = model.values["Income Statement"]["Revenue"][: len(hist)]
    labels = ["Volume (Q, thousands)", "Price (P, USD)", "Driver revenue (Q × P)", "Reported revenue", "Difference"]
    for i, label in enumerate(labels):
        ws.write(i + 1, 0, label)
    bad_period = rng.choice(hist[1:])
    for j, rev in enumerate(revenue):
        col = xl_col_to_name(FIRST_COL + j)
        price = round(rng.uniform(20, 60), 2)
        volume = round(rev * 1000 / price, 1)
        ws.write_number(1, FIRST_COL + j, volume, number)
        if failure == "no_error_values" and hist[j] == bad_period:
            ws.write_formula(2, FIRST_COL + j, f"={col}5/0", number, "#DIV/0!")
            checks_failed["no_error_values"] = [{
                "sheet": "Revenue Drivers", "cell": f"{col}3", "period": bad_period,
                "message": f"Price for {bad_period} shows #DIV/0!; fix the formula before submitting.",
                "expected": "a number", "actual": "#DIV/0!"}]
            ws.write_formula(3, FIRST_COL + j, f"={col}2*{col}3/1000", number, "#DIV/0!")
        else:
            ws.write_number(2, FIRST_COL + j, price, number)
            driver = round(volume * price / 1000, 1)
            if failure == "revenue_build" and hist[j] == bad_period:
                driver = round(driver * rng.uniform(1.04, 1.15), 1)
                checks_failed["revenue_build"] = [{
                    "sheet": "Revenue Drivers", "cell": f"{col}4", "period": bad_period,
                    "message": f"Driver revenue for {bad_period} does not reconcile to reported revenue.",
                    "expected": rev, "actual": driver}]
                ws.write_number(3, FIRST_COL + j, driver, number)
            else:
                ws.write_formula(3, FIRST_COL + j, f"={col}2*{col}3/1000", number, driver)
        ws.write_number(4, FIRST_COL + j, rev, number)
        ws.write_formula(5, FIRST_COL + j, f"={col}4-{col}5", number, 0)
    ws.set_column(0, 0, 30)


def _valuation_sheet(wb, targets, failure, checks_failed, bold, number):
    ws = wb.add_worksheet("Valuation", worksheet_class=_PlainFormulaSheet)
    ws.write(0, 0, "Valuation (USD per share)", bold)
    lines = [("DCF Price Target", "dcf_price_target"), ("Comps Price Target", "comps_price_target"),
             ("Final Price Target", "final_price_target")]
    outputs = {}
    for i, (label, name) in enumerate(lines):
        ws.write(i + 1, 0, label)
        value = targets.get(name)
        if failure == "price_targets" and name == "final_price_target":
            ws.write_blank(i + 1, 1, None)
            checks_failed["price_targets"] = [{
                "sheet": "Valuation", "cell": f"B{i + 2}", "period": None,
                "message": "Final Price Target is empty; enter the target you recommend.",
                "expected": "a positive number", "actual": None}]
            continue
        if name == "final_price_target":
            ws.write_formula(i + 1, 1, "=0.5*B2+0.5*B3", number, value)
        else:
            ws.write_number(i + 1, 1, value, number)
        wb.define_name(name, f"=Valuation!$B${i + 2}")
        outputs[name] = value
    ws.set_column(0, 0, 24)
    return outputs


def build_package(*, ticker: str, company_name: str, version: int, as_of: str, rng: random.Random) -> bytes:
    """A small company package: a cover sheet and the historical statements."""
    model = build_model(ticker, rng)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = wb.add_format({"bold": True})
    cover = wb.add_worksheet("Cover")
    for i, (k, v) in enumerate([("Company", company_name), ("Ticker", ticker), ("Version", version),
                                ("Data as of", as_of), ("Note", "figures in USD millions unless stated")]):
        cover.write(i, 0, k, bold)
        cover.write(i, 1, v)
    for name, rows in (("Income Statement", IS_ROWS), ("Balance Sheet", BS_ROWS), ("Cash Flow", CF_ROWS)):
        ws = wb.add_worksheet(name, worksheet_class=_PlainFormulaSheet)
        for j, label in enumerate(HISTORY):
            ws.write(0, FIRST_COL + j, label, bold)
        for i, line in enumerate(rows):
            ws.write(i + 1, 0, line)
            for j in range(len(HISTORY)):
                ws.write_number(i + 1, FIRST_COL + j, model.values[name][line][j])
    wb.close()
    return buffer.getvalue()
