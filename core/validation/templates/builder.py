"""The workbook builder: lays out the sheets, computes the model and writes formulas
with the values Excel would cache.
"""

from __future__ import annotations

import io
import random

import xlsxwriter

from core.validation.templates.sheets import (
    ACTUAL_YEARS,
    ALIASED_NAMES,
    ASSUMPTIONS,
    DEFAULT_DRIVERS,
    DRIVER_LABELS,
    FIXED_CREATED,
    FLAW_YEAR,
    N_ACT,
    SHEETS_FOR,
    STANDARD_NAMES,
    YEARS,
    _rubric,
    _scenarios,
    _Sheet,
)
from core.validation.workbook import col_letter


class _Builder:
    """Lays out the sheets, computes the model, writes formulas with cached values."""

    scenarios = _scenarios

    def __init__(self, activity_id: str, *, ticker: str, rng: random.Random | None, flaw: str | None,
                 style: str, empty: bool):
        self.activity_id, self.ticker, self.rng, self.flaw, self.empty = activity_id, ticker, rng, flaw, empty
        self.aliased = style == "aliased"
        self.buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buffer, {"in_memory": True})
        # A fixed creation stamp: the same inputs give the same bytes (and SHA-256).
        self.wb.set_properties({"created": FIXED_CREATED})
        self.bold = self.wb.add_format({"bold": True})
        self.label_col = 1 if self.aliased else 0
        self.first_col = 2 if self.aliased else 1
        self.top = 4 if self.aliased else 2  # 0-based row of the period header
        names = ALIASED_NAMES if self.aliased else STANDARD_NAMES
        keys = SHEETS_FOR[activity_id]
        if flaw == "missing_sheet":
            required = list(_rubric(activity_id).required_sheets)
            last = {v: k for k, v in STANDARD_NAMES.items()}[required[-1]]
            names = {**names, last: f"Sheet{keys.index(last) + 1}"}
        self.sheets = {k: _Sheet(k, names[k], self.wb.add_worksheet(names[k])) for k in keys}
        q, p, t = DRIVER_LABELS.get(ticker, DEFAULT_DRIVERS)
        self.driver_labels = (q, p, t)
        self.values: dict[str, list[float]] = {}  # series the valuation sheet needs
        self.scenario_cells = 0

    # -- addressing ---------------------------------------------------------------
    def col(self, t: int) -> int:
        return self.first_col + t

    def ref(self, sheet_key: str, line: str, t: int, *, here: str | None = None) -> str:
        sheet = self.sheets[sheet_key]
        cell = f"{col_letter(self.col(t) + 1)}{sheet.rows[line] + 1}"
        if here == sheet_key:
            return cell
        return f"'{sheet.name}'!{cell}"

    def year_label(self, year: int) -> str:
        if self.aliased:
            return f"{year}A" if year in ACTUAL_YEARS else f"{year}E"
        return f"FY{year}" if year in ACTUAL_YEARS else f"FY{year}E"

    # -- layout -------------------------------------------------------------------
    def layout(self, key: str, title: str, lines: list[tuple[str, str]], *, years=YEARS) -> None:
        sheet = self.sheets[key]
        ws = sheet.ws
        ws.set_column(self.label_col, self.label_col, 44)
        ws.write_string(0, self.label_col, title, self.bold)
        if self.aliased:
            ws.write_string(1, self.label_col, "Prepared for NGI Learning; sources: company 10-K filings.")
            ws.write_string(2, self.label_col, "Blue cells are inputs, black cells are formulas.")
        ws.write_string(self.top, self.label_col, "($ millions unless stated)", self.bold)
        for year in years:
            ws.write_string(self.top, self.col(YEARS.index(year)), self.year_label(year), self.bold)
        row = self.top + 1
        for n, (line, label) in enumerate(lines):
            if self.aliased and n and n % 4 == 0:
                ws.write_string(row, self.label_col, "Note: see the assumptions sheet for the drivers.")
                row += 2  # a note and a blank row, as students insert them
            sheet.rows[line] = row
            ws.write_string(row, self.label_col, label, self.bold if label.startswith("Total") else None)
            row += 1

    def labels(self) -> dict[str, list[tuple[str, str]]]:
        q, p, t = self.driver_labels
        drivers = [("q", q), ("p", p)] + ([("t", t)] if t else []) + [("rev", "Revenue"),
                                                                      ("growth", "Revenue growth %")]
        alias = self.aliased
        return {
            "drivers": drivers,
            "assumptions": ASSUMPTIONS,
            "income": [("rev", "Revenue"), ("cogs", "Cost of goods sold"), ("gp", "Gross profit"),
                       ("opex", "Operating expenses"), ("da", "Depreciation & amortization"),
                       ("ebit", "Operating income (EBIT)"), ("interest", "Interest expense"),
                       ("ebt", "Pre-tax income"), ("taxes", "Income tax expense"),
                       ("ni", "Net income (loss)" if alias else "Net Income"), ("gm", "Gross margin %")],
            "balance": [("cash", "Cash & cash equivalents" if alias else "Cash and Cash Equivalents"),
                        ("ar", "Accounts receivable"), ("inv", "Inventory"), ("tca", "Total current assets"),
                        ("ppe", "PP&E, net"), ("ta", "Total Assets"), ("ap", "Accounts payable"),
                        ("debt", "Long-term debt"), ("tl", "Total liabilities"),
                        ("cs", "Common stock and APIC"), ("re", "Retained earnings"),
                        ("te", "Total shareholders' equity"),
                        ("tle", "Total Liabilities & Stockholders’ Equity" if alias
                         else "Total Liabilities and Shareholders' Equity")],
            "cash": [("ni", "Net income (loss)" if alias else "Net Income"),
                     ("da", "Depreciation & amortization"), ("d_ar", "(Increase) in accounts receivable"),
                     ("d_inv", "(Increase) in inventory"), ("d_ap", "Increase in accounts payable"),
                     ("cfo", "Cash from operating activities"), ("capex", "Capital expenditures"),
                     ("cfi", "Cash from investing activities"), ("issuance", "Debt issued / (repaid)"),
                     ("div", "Dividends paid"), ("cff", "Cash from financing activities"),
                     ("net", "Net change in cash"), ("beg", "Beginning cash"),
                     ("end", "Cash at end of period" if alias else "Ending Cash")],
        }

    # -- writing ------------------------------------------------------------------
    def put(self, key: str, line: str, t: int, value: float | None, formula: str | None) -> None:
        sheet = self.sheets[key]
        row, col = sheet.rows[line], self.col(t)
        if self.empty:
            return
        if formula is None or (t < N_ACT and key in ("income", "balance", "cash")):
            if value is not None:
                sheet.ws.write_number(row, col, value)
            return
        sheet.ws.write_formula(row, col, formula, None, value)

    def build(self) -> bytes:
        labels = self.labels()
        titles = {"drivers": "Revenue drivers", "assumptions": "Forecast assumptions",
                  "income": "Income statement", "balance": "Balance sheet", "cash": "Cash-flow statement"}
        company = self.ticker or "Company"
        for key in self.sheets:
            if key != "valuation":
                self.layout(key, f"{company}: {titles[key]}", labels[key])
        if not self.empty:
            self.model()
        if "valuation" in self.sheets:
            self.valuation()
        if self.scenario_cells:
            self.scenarios(self.scenario_cells)
        self.wb.close()
        return self.buffer.getvalue()

    def model(self) -> None:
        rng = self.rng or random.Random(0)
        has = self.sheets.__contains__
        _q, _p, t_ = self.driver_labels
        take = t_ is not None
        q0, p0 = rng.uniform(800, 6000), rng.uniform(30, 400)
        tr = rng.uniform(0.08, 0.22) if take else 1.0
        gq, gp = rng.uniform(0.03, 0.12), rng.uniform(0.0, 0.04)
        a = {
            "cogs_pct": rng.uniform(0.55, 0.68), "opex_pct": rng.uniform(0.10, 0.18),
            "dep_pct": rng.uniform(0.08, 0.12), "int_rate": rng.uniform(0.04, 0.07), "tax": rng.uniform(0.19, 0.26),
            "ar_days": rng.uniform(20, 50), "inv_days": rng.uniform(30, 70), "ap_days": rng.uniform(30, 60),
            "capex_pct": rng.uniform(0.04, 0.08), "payout": rng.uniform(0.2, 0.4),
        }
        rev0 = q0 * p0 * tr / 1000
        ppe, debt, cash = rev0 * rng.uniform(0.5, 0.8), rev0 * rng.uniform(0.2, 0.4), rev0 * rng.uniform(0.1, 0.2)
        ar, inv, ap = rev0 * 0.1, rev0 * 0.1, rev0 * 0.08
        cs = rev0 * 0.2
        re_ = cash + ar + inv + ppe - ap - debt - cs
        end = cash
        beg_prev = cash
        prev_rev = 0.0  # last year's revenue, read from the second year on
        for t, year in enumerate(YEARS):
            f = t >= N_ACT
            prev = t - 1
            qv, pv = q0 * (1 + gq) ** t, p0 * (1 + gp) ** t
            self.put("drivers", "q", t, qv, None)
            self.put("drivers", "p", t, pv, None)
            if take:
                self.put("drivers", "t", t, tr, None)
            qr, pr = self.ref("drivers", "q", t, here="drivers"), self.ref("drivers", "p", t, here="drivers")
            tr_ref = f"*{self.ref('drivers', 't', t, here='drivers')}" if take else ""
            rev = qv * pv * tr / 1000
            rev_formula = f"={qr}*{pr}{tr_ref}/1000"
            if self.flaw == "revenue_mismatch" and year == FLAW_YEAR:
                # Volume times last year's price: the classic off-by-one column.
                rev = qv * (p0 * (1 + gp) ** prev) * tr / 1000
                rev_formula = f"={qr}*{self.ref('drivers', 'p', prev, here='drivers')}{tr_ref}/1000"
            self.put("drivers", "rev", t, rev, rev_formula)
            rev_ref = self.ref("drivers", "rev", t, here="drivers")
            if t:
                growth_prev = self.ref("drivers", "rev", prev, here="drivers")
                self.put("drivers", "growth", t, rev / prev_rev - 1, f"={rev_ref}/{growth_prev}-1")
            elif self.flaw == "error_value" and not self.empty:
                row, col = self.sheets["drivers"].rows["growth"], self.col(0)
                label_cell = f"{col_letter(self.col(0))}{self.sheets['drivers'].rows['rev'] + 1}"
                self.sheets["drivers"].ws.write_formula(row, col, f"={rev_ref}/{label_cell}-1", None, "#VALUE!")
            prev_rev = rev
            if not has("income"):
                continue
            v = {k: a[k] * (1 + rng.uniform(-0.03, 0.03)) if not f else a[k] for k in a}
            v["issuance"] = rev * rng.uniform(-0.02, 0.04)
            for k, _label in ASSUMPTIONS:
                self.put("assumptions", k, t, v[k], None)
            A = {k: self.ref("assumptions", k, t) for k, _ in ASSUMPTIONS}
            Inc = lambda line, tt=t: self.ref("income", line, tt, here="income")  # noqa: E731
            B = lambda line, tt=t: self.ref("balance", line, tt, here="balance")  # noqa: E731
            C = lambda line, tt=t: self.ref("cash", line, tt, here="cash")  # noqa: E731
            Bx = lambda line, tt=t: self.ref("balance", line, tt)  # noqa: E731
            Ix = lambda line, tt=t: self.ref("income", line, tt)  # noqa: E731
            Cx = lambda line, tt=t: self.ref("cash", line, tt)  # noqa: E731
            # Income statement
            cogs = rev * v["cogs_pct"]
            gpv = rev - cogs
            opex = rev * v["opex_pct"]
            da = ppe * v["dep_pct"]
            ebit = gpv - opex - da
            interest = debt * v["int_rate"]
            ebt = ebit - interest
            taxes = ebt * v["tax"]
            ni = ebt - taxes
            self.put("income", "rev", t, rev, f"={self.ref('drivers', 'rev', t)}")
            self.put("income", "cogs", t, cogs, f"={Inc('rev')}*{A['cogs_pct']}")
            self.put("income", "gp", t, gpv, f"={Inc('rev')}-{Inc('cogs')}")
            if self.flaw == "hardcoded_forecast" and year == FLAW_YEAR:
                self.sheets["income"].ws.write_number(self.sheets["income"].rows["opex"], self.col(t), opex)
            else:
                self.put("income", "opex", t, opex, f"={Inc('rev')}*{A['opex_pct']}")
            self.put("income", "da", t, da, f"={Bx('ppe', prev)}*{A['dep_pct']}")
            self.put("income", "ebit", t, ebit, f"={Inc('gp')}-{Inc('opex')}-{Inc('da')}")
            self.put("income", "interest", t, interest, f"={Bx('debt', prev)}*{A['int_rate']}")
            self.put("income", "ebt", t, ebt, f"={Inc('ebit')}-{Inc('interest')}")
            self.put("income", "taxes", t, taxes, f"={Inc('ebt')}*{A['tax']}")
            self.put("income", "ni", t, ni, f"={Inc('ebt')}-{Inc('taxes')}")
            self.put("income", "gm", t, gpv / rev, f"={Inc('gp')}/{Inc('rev')}")
            # Balance sheet working capital and fixed assets
            ar_n, inv_n, ap_n = rev * v["ar_days"] / 365, cogs * v["inv_days"] / 365, cogs * v["ap_days"] / 365
            capex = rev * v["capex_pct"]
            ppe_n = ppe + capex - da
            debt_n = debt + v["issuance"]
            # Cash flow
            cf_ni, cf_ni_formula = ni, f"={Ix('ni')}"
            if self.flaw == "net_income_mismatch" and year == FLAW_YEAR:
                cf_ni, cf_ni_formula = ebt, f"={Ix('ebt')}"  # linked to pre-tax income by mistake
            d_ar, d_inv, d_ap = -(ar_n - ar), -(inv_n - inv), ap_n - ap
            cfo = cf_ni + da + d_ar + d_inv + d_ap
            div = -v["payout"] * cf_ni
            cff = v["issuance"] + div
            net = cfo - capex + cff
            beg, beg_formula = end, f"={C('end', prev)}"
            if self.flaw == "cash_mismatch" and year == FLAW_YEAR:
                beg, beg_formula = beg_prev, f"={C('beg', prev)}"  # dragged from the wrong row
            end_n = beg + net
            self.put("cash", "ni", t, cf_ni, cf_ni_formula)
            self.put("cash", "da", t, da, f"={Ix('da')}")
            self.put("cash", "d_ar", t, d_ar, f"=-({Bx('ar')}-{Bx('ar', prev)})")
            self.put("cash", "d_inv", t, d_inv, f"=-({Bx('inv')}-{Bx('inv', prev)})")
            self.put("cash", "d_ap", t, d_ap, f"={Bx('ap')}-{Bx('ap', prev)}")
            self.put("cash", "cfo", t, cfo, f"=SUM({C('ni')}:{C('d_ap')})")
            self.put("cash", "capex", t, -capex, f"=-{Ix('rev')}*{A['capex_pct']}")
            self.put("cash", "cfi", t, -capex, f"={C('capex')}")
            self.put("cash", "issuance", t, v["issuance"], f"={A['issuance']}")
            self.put("cash", "div", t, div, f"=-{C('ni')}*{A['payout']}")
            self.put("cash", "cff", t, cff, f"={C('issuance')}+{C('div')}")
            self.put("cash", "net", t, net, f"={C('cfo')}+{C('cfi')}+{C('cff')}")
            self.put("cash", "beg", t, beg, beg_formula)
            self.put("cash", "end", t, end_n, f"={C('beg')}+{C('net')}")
            # Balance sheet
            cash_n = cash + net
            re_n, re_formula = re_ + cf_ni + div, f"={B('re', prev)}+{Cx('ni')}+{Cx('div')}"
            if self.flaw == "unbalanced" and year == FLAW_YEAR + 1:
                re_n, re_formula = re_ + cf_ni, f"={B('re', prev)}+{Cx('ni')}"  # dividends forgotten
            self.put("balance", "cash", t, cash_n, f"={B('cash', prev)}+{Cx('net')}")
            self.put("balance", "ar", t, ar_n, f"={Ix('rev')}*{A['ar_days']}/365")
            self.put("balance", "inv", t, inv_n, f"={Ix('cogs')}*{A['inv_days']}/365")
            self.put("balance", "tca", t, cash_n + ar_n + inv_n, f"=SUM({B('cash')}:{B('inv')})")
            self.put("balance", "ppe", t, ppe_n, f"={B('ppe', prev)}-{Cx('capex')}-{Ix('da')}")
            self.put("balance", "ta", t, cash_n + ar_n + inv_n + ppe_n, f"={B('tca')}+{B('ppe')}")
            self.put("balance", "ap", t, ap_n, f"={Ix('cogs')}*{A['ap_days']}/365")
            self.put("balance", "debt", t, debt_n, f"={B('debt', prev)}+{Cx('issuance')}")
            self.put("balance", "tl", t, ap_n + debt_n, f"={B('ap')}+{B('debt')}")
            self.put("balance", "cs", t, cs, f"={B('cs', prev)}")
            self.put("balance", "re", t, re_n, re_formula)
            self.put("balance", "te", t, cs + re_n, f"={B('cs')}+{B('re')}")
            self.put("balance", "tle", t, ap_n + debt_n + cs + re_n, f"={B('tl')}+{B('te')}")
            self.values.setdefault("fcf", []).append(ebit * (1 - v["tax"]) + da - capex + d_ar + d_inv + d_ap)
            self.values.setdefault("ni", []).append(ni)
            self.values.setdefault("cash", []).append(cash_n)
            self.values.setdefault("debt", []).append(debt_n)
            self.values.setdefault("tax", []).append(v["tax"])
            ar, inv, ap, ppe, debt, cash, re_ = ar_n, inv_n, ap_n, ppe_n, debt_n, cash_n, re_n
            beg_prev, end = beg, end_n

    def valuation(self) -> None:
        sheet = self.sheets["valuation"]
        ws = sheet.ws
        ws.set_column(self.label_col, self.label_col, 36)
        ws.write_string(0, self.label_col, f"{self.ticker or 'Company'}: valuation", self.bold)
        top = self.top
        ws.write_string(top, self.label_col, "($ millions)", self.bold)
        fc = list(range(N_ACT, len(YEARS)))
        for i, t in enumerate(fc):
            ws.write_string(top, self.first_col + i, self.year_label(YEARS[t]), self.bold)
        lines = ["Unlevered free cash flow", "Discount factor", "Present value of FCF"]
        scalars = ["WACC", "Terminal growth rate", "Sum of PV of FCF", "Terminal value", "PV of terminal value",
                   "Enterprise value", "Net debt", "Equity value", "Shares outstanding (millions)",
                   "DCF Price Target", "EPS, first forecast year", "Peer P/E multiple", "Comps Price Target",
                   "DCF weight", "Final Price Target"]
        rows = {}
        r = top + 1
        for label in lines:
            rows[label] = r
            ws.write_string(r, self.label_col, label)
            r += 1
        r += 1
        for label in scalars:
            rows[label] = r
            ws.write_string(r, self.label_col, label, self.bold if "Price Target" in label else None)
            r += 1
        vc = self.first_col  # value column for scalar lines
        cell = lambda label, c=vc: f"{col_letter(c + 1)}{rows[label] + 1}"  # noqa: E731
        for key in ("dcf_price_target", "comps_price_target", "final_price_target"):
            label = {"dcf_price_target": "DCF Price Target", "comps_price_target": "Comps Price Target",
                     "final_price_target": "Final Price Target"}[key]
            col = col_letter(vc + 1)
            self.wb.define_name(key, f"='{sheet.name}'!${col}${rows[label] + 1}")
        if self.empty:
            return
        rng = self.rng or random.Random(0)
        wacc, g = rng.uniform(0.08, 0.10), rng.uniform(0.02, 0.03)
        fcf = self.values["fcf"]
        pv_sum = 0.0
        for i, t in enumerate(fc):
            c = self.first_col + i
            cl = col_letter(c + 1)
            cf_refs = "+".join(self.ref("cash", k, t) for k in ("d_ar", "d_inv", "d_ap"))
            formula = (f"={self.ref('income', 'ebit', t)}*(1-{self.ref('assumptions', 'tax', t)})"
                       f"+{self.ref('income', 'da', t)}+{self.ref('cash', 'capex', t)}+{cf_refs}")
            ws.write_formula(rows[lines[0]], c, formula, None, fcf[t])
            df = 1 / (1 + wacc) ** (i + 1)
            wacc_abs = f"${col_letter(vc + 1)}${rows['WACC'] + 1}"
            ws.write_formula(rows[lines[1]], c, f"=1/(1+{wacc_abs})^{i + 1}", None, df)
            ws.write_formula(rows[lines[2]], c, f"={cl}{rows[lines[0]] + 1}*{cl}{rows[lines[1]] + 1}", None,
                             fcf[t] * df)
            pv_sum += fcf[t] * df
        last = col_letter(self.first_col + len(fc))
        first = col_letter(self.first_col + 1)
        tv = fcf[-1] * (1 + g) / (wacc - g)
        pv_tv = tv / (1 + wacc) ** len(fc)
        ev = pv_sum + pv_tv
        net_debt = self.values["debt"][N_ACT - 1] - self.values["cash"][N_ACT - 1]
        equity = ev - net_debt
        shares = round(equity / rng.uniform(40, 300), 1)
        dcf = equity / shares
        eps = self.values["ni"][N_ACT] / shares
        pe = rng.uniform(12, 28)
        comps = eps * pe
        w = 0.5
        final = w * dcf + (1 - w) * comps
        num = ws.write_number
        num(rows["WACC"], vc, wacc)
        num(rows["Terminal growth rate"], vc, g)
        f = ws.write_formula
        pv_row = rows[lines[2]] + 1
        f(rows["Sum of PV of FCF"], vc, f"=SUM({first}{pv_row}:{last}{pv_row})", None, pv_sum)
        f(rows["Terminal value"], vc, f"={last}{rows[lines[0]] + 1}*(1+{cell('Terminal growth rate')})/"
          f"({cell('WACC')}-{cell('Terminal growth rate')})", None, tv)
        f(rows["PV of terminal value"], vc, f"={cell('Terminal value')}*{last}{rows[lines[1]] + 1}", None, pv_tv)
        f(rows["Enterprise value"], vc, f"={cell('Sum of PV of FCF')}+{cell('PV of terminal value')}", None, ev)
        f(rows["Net debt"], vc, f"={self.ref('balance', 'debt', N_ACT - 1)}-{self.ref('balance', 'cash', N_ACT - 1)}",
          None, net_debt)
        f(rows["Equity value"], vc, f"={cell('Enterprise value')}-{cell('Net debt')}", None, equity)
        num(rows["Shares outstanding (millions)"], vc, shares)
        f(rows["DCF Price Target"], vc, f"={cell('Equity value')}/{cell('Shares outstanding (millions)')}", None, dcf)
        f(rows["EPS, first forecast year"], vc,
          f"={self.ref('income', 'ni', N_ACT)}/{cell('Shares outstanding (millions)')}", None, eps)
        num(rows["Peer P/E multiple"], vc, pe)
        if self.flaw == "missing_price_target":
            final = w * dcf  # the blank comps cell counts as zero in Excel
        else:
            f(rows["Comps Price Target"], vc, f"={cell('EPS, first forecast year')}*{cell('Peer P/E multiple')}",
              None, comps)
        num(rows["DCF weight"], vc, w)
        f(rows["Final Price Target"], vc, f"={cell('DCF weight')}*{cell('DCF Price Target')}+(1-{cell('DCF weight')})"
          f"*{cell('Comps Price Target')}", None, final)

