"""Generated SEC companyfacts for the demo's company packages.

The demo builds its packages with the real pipeline (core.packages.build_package),
so it needs companyfacts files: the JSON that data.sec.gov serves, {cik, entityName,
facts: {taxonomy: {Concept: {label, description, units: {unit: [{start?, end, val,
accn, fy, fp, form, filed, frame?}]}}}}}. The figures here are GENERATED (the entity
name and the source file name say so), scaled to each curated company, and tie:
assets = liabilities (+ redeemable equity) + equity, cash rolls forward through the
cash-flow statement, net income = consolidated profit less non-controlling
interests. Each annual filing carries its own year and the prior years as
comparatives (three years of flows, two of balances), as 10-Ks and 20-Fs do, so
every year is reported twice and a later filing can restate it.

Two deliberate events give the package history something to show:
- KO: the latest 10-K restates the two prior years' revenue and cost of revenue
  (a gross-versus-net reclassification; gross profit unchanged).
- TSLA: one 10-K tagged total liabilities without operating lease liabilities, so
  the package built from it fails the balance check; the next 10-K's comparative
  is correct, and the real builder prefers the latest-filed value.
(Demo submissions are built by core.validation.templates; see core/demo/write.py.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from core.errors import Invalid
from core.sec.fiscal import parse_fiscal_year_end

ANCHOR_YEAR = 2024  # the profiles' revenue is this fiscal year's (USD millions)
FILINGS = 6         # annual filings per file: enough for a five-year package and its predecessors
RESTATED = {"KO": 150}           # ticker -> revenue gross-up (USD m) in the latest filing's comparatives
MISTAGGED = {"TSLA": 2}          # ticker -> how many years before the latest filing the bad 10-K is


@dataclass(frozen=True)
class Profile:
    revenue: float                # FY2024 revenue, USD millions
    growth: float                 # mean annual growth
    cogs: float                   # ratios to revenue ...
    sga: float
    rnd: float = 0.0
    tax: float = 0.21             # ... of pre-tax income
    nci: float = 0.0              # share of consolidated profit that belongs to minorities
    payout: float = 0.3           # dividends and buybacks, share of net income
    capex: float = 0.04
    da: float = 0.03
    sbc: float = 0.005
    receivables: float = 0.08
    inventory: float = 0.0
    payables: float = 0.1
    debt: float = 0.3
    restricted: float = 0.0       # restricted cash (ending cash then includes it)
    goodwill: float = 0.05
    equity: float = 0.4
    redeemable: float = 0.0       # redeemable (temporary) equity
    shares: float = 1_000.0       # diluted shares, millions
    form: str = "10-K"
    filing_lag: tuple[int, int] = (28, 58)  # days from year end to filing


PROFILES = {
    "TSLA": Profile(97_690, 0.12, 0.82, 0.055, 0.046, tax=0.15, nci=0.01, payout=0.0, capex=0.10, da=0.055,
                    sbc=0.02, receivables=0.04, inventory=0.13, payables=0.13, debt=0.08, goodwill=0.003,
                    equity=0.7, redeemable=0.0007, shares=3_500),
    "COST": Profile(254_453, 0.07, 0.874, 0.09, tax=0.25, payout=0.35, capex=0.018, da=0.01, sbc=0.004,
                    receivables=0.012, inventory=0.073, payables=0.078, debt=0.023, goodwill=0.0, equity=0.09,
                    shares=444),
    "SHOP": Profile(8_880, 0.24, 0.49, 0.25, 0.15, tax=0.1, payout=0.0, capex=0.004, da=0.005, sbc=0.05,
                    receivables=0.05, payables=0.03, debt=0.13, goodwill=0.05, equity=1.3, shares=1_300),
    "UBER": Profile(43_978, 0.16, 0.60, 0.25, 0.07, tax=0.1, nci=0.02, payout=0.1, capex=0.006, da=0.02,
                    sbc=0.04, receivables=0.09, payables=0.02, debt=0.21, restricted=0.11, goodwill=0.18,
                    equity=0.4, shares=2_150),
    "ABNB": Profile(11_102, 0.11, 0.17, 0.55, 0.17, tax=0.18, payout=0.7, capex=0.003, da=0.004, sbc=0.13,
                    receivables=0.03, payables=0.02, debt=0.18, restricted=0.5, goodwill=0.07, equity=0.75,
                    shares=650),
    "DE": Profile(51_716, 0.03, 0.62, 0.12, 0.04, tax=0.22, nci=0.001, payout=0.6, capex=0.07, da=0.04,
                  receivables=0.12, inventory=0.14, payables=0.17, debt=1.2, goodwill=0.08, equity=0.45,
                  shares=276, filing_lag=(40, 55)),
    "GE": Profile(38_702, 0.09, 0.64, 0.14, 0.04, tax=0.17, nci=0.01, payout=0.5, capex=0.03, da=0.03,
                  receivables=0.23, inventory=0.25, payables=0.22, debt=0.5, goodwill=0.22, equity=0.5,
                  shares=1_090),
    "KO": Profile(47_061, 0.05, 0.39, 0.30, tax=0.19, nci=0.01, payout=0.75, capex=0.045, da=0.025,
                  sbc=0.005, receivables=0.08, inventory=0.09, payables=0.12, debt=0.9, goodwill=0.38,
                  equity=0.55, shares=4_320),
    "BUD": Profile(59_768, 0.03, 0.45, 0.20, 0.10, tax=0.26, nci=0.12, payout=0.3, capex=0.08, da=0.09,
                   receivables=0.08, inventory=0.08, payables=0.40, debt=1.2, goodwill=1.9, equity=1.5,
                   shares=2_020, form="20-F", filing_lag=(70, 88)),
    "GSBD": Profile(434, 0.03, 0.0, 0.0, form="10-K", shares=117, filing_lag=(50, 62)),
}

LABELS = {  # the EDGAR label of each concept used below (description left short)
    "Revenues": "Revenues", "Revenue": "Revenue", "CostOfRevenue": "Cost of Revenue", "CostOfSales": "Cost of sales",
    "GrossProfit": "Gross Profit", "NetIncomeLoss": "Net Income (Loss) Attributable to Parent",
    "Assets": "Assets", "Liabilities": "Liabilities", "LiabilitiesAndStockholdersEquity": "Liabilities and Equity",
}


def fiscal_year_end_date(fiscal_year_end: str, year: int) -> date:
    """The period end of fiscal `year`: the nominal date, or for a 52/53-week year the
    weekday nearest it (COST: the Sunday nearest 31 August)."""
    fye = parse_fiscal_year_end(fiscal_year_end)
    if fye is None:
        raise Invalid(f"A fiscal year end is needed to date fiscal {year}; none was given.")
    nominal = fye.nominal(year)
    if fye.weekday is None:
        return nominal
    ahead = (fye.weekday - nominal.weekday()) % 7
    return nominal + timedelta(days=ahead if ahead <= 3 else ahead - 7)


def filed_on(ticker: str, fiscal_year_end: str, year: int, rng: random.Random) -> date:
    lo, hi = PROFILES[ticker].filing_lag
    return fiscal_year_end_date(fiscal_year_end, year) + timedelta(days=rng.randint(lo, hi))


def latest_filed_year(ticker: str, fiscal_year_end: str, today: date, *, stale: bool = False) -> int:
    """The newest fiscal year whose annual filing is surely out by `today` (filings
    come at most the profile's longest lag after the year end). With `stale`, also
    one that ended over 15 months ago, as a company nobody has rebuilt since."""
    from core.packages import is_stale

    year = today.year
    while True:
        end = fiscal_year_end_date(fiscal_year_end, year)
        if end + timedelta(days=PROFILES[ticker].filing_lag[1]) < today and (not stale or is_stale(end, today)):
            return year
        year -= 1


# --- the model: integer USD millions, so every total is an exact sum ------------


def _revenues(p: Profile, years: list[int], rng: random.Random) -> dict[int, int]:
    growth = {y: rng.gauss(p.growth, 0.03) for y in years}
    rev = {ANCHOR_YEAR: p.revenue * rng.uniform(0.98, 1.02)}
    for y in range(ANCHOR_YEAR - 1, years[0] - 1, -1):
        rev[y] = rev[y + 1] / (1 + growth.get(y + 1, p.growth))
    for y in range(ANCHOR_YEAR + 1, years[-1] + 1):
        rev[y] = rev[y - 1] * (1 + growth[y])
    return {y: round(rev[y]) for y in years}


def _operating_model(p: Profile, years: list[int], rng: random.Random) -> dict[int, dict[str, float]]:
    """Balances for every year in `years`, flows for all but the first (the opening balance)."""
    rev = _revenues(p, years, rng)
    r0 = rev[years[0]]

    def ratio(x: float, noise: float = 0.04) -> float:
        return x * rng.uniform(1 - noise, 1 + noise)

    bal = dict(cash_total=round(r0 * 0.12), receivables=round(r0 * p.receivables),
               inventory=round(r0 * p.inventory), payables=round(r0 * p.payables), ppe=round(r0 * ratio(0.35)),
               goodwill=round(r0 * p.goodwill), debt=round(r0 * p.debt), parent_equity=round(r0 * p.equity),
               nci_equity=round(r0 * p.equity * p.nci * 2), redeemable=round(r0 * p.redeemable))
    out = {years[0]: _close_balance(p, dict(bal), r0)}
    for y in years[1:]:
        r = rev[y]
        cogs = round(r * ratio(p.cogs, 0.01))
        rnd, sga = round(r * ratio(p.rnd)), round(r * ratio(p.sga))
        op_income = r - cogs - rnd - sga
        interest = round(bal["debt"] * 0.045)
        other = round(r * rng.gauss(0.004, 0.003))
        pretax = op_income - interest + other
        tax = round(max(pretax, 0) * ratio(p.tax, 0.1))
        consolidated = pretax - tax
        ni_nci = round(consolidated * p.nci)
        ni = consolidated - ni_nci
        shares = p.shares * (rev[y] / p.revenue) ** 0.02
        da, sbc = round(r * ratio(p.da)), round(r * ratio(p.sbc))
        recv, inv, pay = round(r * ratio(p.receivables)), round(r * ratio(p.inventory)), round(r * ratio(p.payables))
        d_nwc = (recv + inv - pay) - (bal["receivables"] + bal["inventory"] - bal["payables"])
        other_op = round(r * rng.gauss(0, 0.006))
        cfo = consolidated + da + sbc - d_nwc + other_op
        capex = round(r * ratio(p.capex, 0.1))
        acquisitions = round(r * 0.03) if rng.random() < 0.2 and p.goodwill else 0
        other_inv = round(r * rng.gauss(0, 0.004))
        cfi = -capex - acquisitions + other_inv
        new_debt = round(bal["debt"] * rng.uniform(0.97, 1.03) + (r - rev[y - 1]) * p.debt)
        payout = round(max(ni, 0) * ratio(p.payout, 0.15))
        nci_div = round(max(ni_nci, 0) * 0.5)
        fx = round(r * rng.gauss(0, 0.002))
        cff = (new_debt - bal["debt"]) - payout - nci_div
        floor = round(r * (0.05 + p.restricted))
        cash_total = bal["cash_total"] + cfo + cfi + cff + fx
        if cash_total < floor:  # borrow to keep a working cash balance
            new_debt += floor - cash_total
            cff += floor - cash_total
            cash_total = floor
        bal.update(cash_total=cash_total, receivables=recv, inventory=inv, payables=pay,
                   ppe=max(bal["ppe"] + capex - da, round(r * 0.01)), goodwill=bal["goodwill"] + acquisitions,
                   debt=new_debt, parent_equity=bal["parent_equity"] + ni + sbc - payout + fx,
                   nci_equity=bal["nci_equity"] + ni_nci - nci_div)
        row = _close_balance(p, dict(bal), r)
        row.update(revenue=r, cogs=cogs, gross=r - cogs, rnd=rnd, sga=sga, opex=rnd + sga, op_income=op_income,
                   interest=interest, pretax=pretax, tax=tax, consolidated=consolidated, ni_nci=ni_nci, ni=ni,
                   eps_diluted=round(ni / shares, 2), eps_basic=round(ni / (shares * 0.99), 2),
                   shares_diluted=round(shares * 1e6), da=da, sbc=sbc, cfo=cfo, capex=capex, cfi=cfi, cff=cff, fx=fx,
                   net_change=cfo + cfi + cff + fx)
        out[y] = row
    return out


def _close_balance(p: Profile, b: dict, r: int) -> dict:
    """Split cash, add the lines not modelled (other assets and liabilities) and
    make the balance sheet balance through other non-current assets."""
    b["restricted_cash"] = round(r * p.restricted)
    b["cash"] = b["cash_total"] - b["restricted_cash"]
    b["other_current_assets"] = round(r * 0.04)
    b["current_assets"] = b["cash_total"] + b["receivables"] + b["inventory"] + b["other_current_assets"]
    b["current_liabilities"] = b["payables"] + round(r * 0.12)
    other_ncl = round(r * 0.08)
    b["total_equity"] = b["parent_equity"] + b["nci_equity"]
    funding = b["current_liabilities"] + b["debt"] + other_ncl + b["redeemable"] + b["total_equity"]
    plug = funding - (b["current_assets"] + b["ppe"] + b["goodwill"])
    if plug < round(r * 0.03):  # keep other assets positive: the gap is other liabilities
        other_ncl += round(r * 0.03) - plug
        plug = round(r * 0.03)
    b["liabilities"] = b["current_liabilities"] + b["debt"] + other_ncl
    b["assets"] = b["current_assets"] + b["ppe"] + b["goodwill"] + plug
    b["liabilities_and_equity"] = b["liabilities"] + b["redeemable"] + b["total_equity"]
    return b


def _bdc_model(p: Profile, years: list[int], rng: random.Random) -> dict[int, dict[str, float]]:
    """An investment company: investment income on a leveraged loan book; net assets
    roll forward with net income, distributions and share issuance."""
    tii = _revenues(p, years, rng)
    inv = round(tii[years[0]] / 0.12)
    b = dict(investments=inv, cash=round(inv * 0.02), debt=round(inv * 0.55), other_liabilities=round(inv * 0.02),
             net_assets=0, shares=p.shares * 0.96)
    b["other_assets"] = round(inv * 0.015)
    b["net_assets"] = b["investments"] + b["cash"] + b["other_assets"] - b["debt"] - b["other_liabilities"]

    def balance(row: dict) -> dict:
        row["assets"] = row["investments"] + row["cash"] + row["other_assets"]
        row["liabilities"] = row["debt"] + row["other_liabilities"]
        row["liabilities_and_equity"] = row["liabilities"] + row["net_assets"]
        row["nav_per_share"] = round(row["net_assets"] / row["shares"], 2)
        return row

    out = {years[0]: balance(dict(b))}
    for y in years[1:]:
        income = tii[y]
        interest = round(b["debt"] * rng.uniform(0.055, 0.065))
        expenses = interest + round(income * rng.uniform(0.15, 0.18))
        nii = income - expenses
        realized = round(b["investments"] * rng.gauss(-0.01, 0.008))
        unrealized = round(b["investments"] * rng.gauss(0.0, 0.012))
        ni = nii + realized + unrealized
        purchases = round(income / 0.12 - b["investments"] + b["investments"] * rng.uniform(-0.02, 0.03))
        cfo = nii - purchases
        issued = round(b["net_assets"] * rng.uniform(0.0, 0.03))
        new_shares = b["shares"] * (1 + issued / max(b["net_assets"], 1))
        distributions = round(nii * rng.uniform(0.93, 1.0))
        new_debt = b["debt"] + purchases - issued + distributions - nii + round(income * rng.gauss(0, 0.02))
        new_debt += max(0, 20 - (b["cash"] + nii - purchases + new_debt - b["debt"] + issued - distributions))
        cff = (new_debt - b["debt"]) + issued - distributions
        b.update(investments=b["investments"] + purchases + realized + unrealized, cash=b["cash"] + cfo + cff,
                 debt=new_debt, net_assets=b["net_assets"] + ni - distributions + issued)
        avg_shares = (b["shares"] + new_shares) / 2
        b["shares"] = new_shares
        row = balance(dict(b))
        row.update(tii=income, interest=interest, expenses=expenses, nii=nii, realized=realized,
                   unrealized=unrealized, ni=ni, nii_per_share=round(nii / avg_shares, 2),
                   eps_basic=round(ni / avg_shares, 2), cfo=cfo, cff=cff, net_change=cfo + cff)
        out[y] = row
    return out
