"""The companyfacts JSON itself: which reported concept carries which model figure,
and the filings (each year reported again as a comparative) built from the models.
"""

from __future__ import annotations

import random
from datetime import timedelta

from core.demo.files import (
    ANCHOR_YEAR,
    FILINGS,
    LABELS,
    MISTAGGED,
    PROFILES,
    RESTATED,
    Profile,
    _bdc_model,
    _operating_model,
    filed_on,
    fiscal_year_end_date,
)

# --- concepts: which model figure each reported concept carries -----------------

_US_FLOWS = [
    ("Revenues", "revenue"), ("CostOfRevenue", "cogs"), ("GrossProfit", "gross"),
    ("ResearchAndDevelopmentExpense", "rnd"), ("SellingGeneralAndAdministrativeExpense", "sga"),
    ("OperatingExpenses", "opex"), ("OperatingIncomeLoss", "op_income"), ("InterestExpense", "interest"),
    ("IncomeLossFromContinuingOperationsBeforeIncomeTaxesExtraordinaryItemsNoncontrollingInterest", "pretax"),
    ("IncomeTaxExpenseBenefit", "tax"), ("ProfitLoss", "consolidated"),
    ("NetIncomeLossAttributableToNoncontrollingInterest", "ni_nci"), ("NetIncomeLoss", "ni"),
    ("EarningsPerShareBasic", "eps_basic"), ("EarningsPerShareDiluted", "eps_diluted"),
    ("WeightedAverageNumberOfDilutedSharesOutstanding", "shares_diluted"),
    ("DepreciationDepletionAndAmortization", "da"), ("ShareBasedCompensation", "sbc"),
    ("NetCashProvidedByUsedInOperatingActivities", "cfo"), ("PaymentsToAcquirePropertyPlantAndEquipment", "capex"),
    ("NetCashProvidedByUsedInInvestingActivities", "cfi"), ("NetCashProvidedByUsedInFinancingActivities", "cff"),
    ("EffectOfExchangeRateOnCashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents", "fx"),
    ("CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalentsPeriodIncreaseDecreaseIncludingExchangeRateEffect",
     "net_change"),
]
_US_BALANCES = [
    ("CashAndCashEquivalentsAtCarryingValue", "cash"), ("RestrictedCashCurrent", "restricted_cash"),
    ("AccountsReceivableNetCurrent", "receivables"), ("InventoryNet", "inventory"), ("AssetsCurrent", "current_assets"),
    ("PropertyPlantAndEquipmentNet", "ppe"), ("Goodwill", "goodwill"), ("Assets", "assets"),
    ("AccountsPayableCurrent", "payables"), ("LiabilitiesCurrent", "current_liabilities"),
    ("LongTermDebtNoncurrent", "debt"), ("Liabilities", "liabilities"),
    ("RedeemableNoncontrollingInterestEquityCarryingAmount", "redeemable"), ("StockholdersEquity", "parent_equity"),
    ("MinorityInterest", "nci_equity"),
    ("StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest", "total_equity"),
    ("LiabilitiesAndStockholdersEquity", "liabilities_and_equity"),
    ("CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents", "cash_total"),
]
_IFRS_FLOWS = [
    # For the 20-F, the model's "rnd" share of revenue stands for distribution costs.
    ("Revenue", "revenue"), ("CostOfSales", "cogs"), ("GrossProfit", "gross"), ("DistributionCosts", "rnd"),
    ("AdministrativeExpense", "sga"), ("ProfitLossFromOperatingActivities", "op_income"),
    ("FinanceCosts", "interest"), ("ProfitLossBeforeTax", "pretax"), ("IncomeTaxExpenseContinuingOperations", "tax"),
    ("ProfitLoss", "consolidated"), ("ProfitLossAttributableToNoncontrollingInterests", "ni_nci"),
    ("ProfitLossAttributableToOwnersOfParent", "ni"), ("BasicEarningsLossPerShare", "eps_basic"),
    ("DilutedEarningsLossPerShare", "eps_diluted"), ("DepreciationAndAmortisationExpense", "da"),
    ("CashFlowsFromUsedInOperatingActivities", "cfo"),
    ("PurchaseOfPropertyPlantAndEquipmentClassifiedAsInvestingActivities", "capex"),
    ("CashFlowsFromUsedInInvestingActivities", "cfi"), ("CashFlowsFromUsedInFinancingActivities", "cff"),
    ("EffectOfExchangeRateChangesOnCashAndCashEquivalents", "fx"),
    ("IncreaseDecreaseInCashAndCashEquivalents", "net_change"),
]
_IFRS_BALANCES = [
    ("CashAndCashEquivalents", "cash"), ("TradeAndOtherCurrentReceivables", "receivables"),
    ("Inventories", "inventory"), ("CurrentAssets", "current_assets"), ("PropertyPlantAndEquipment", "ppe"),
    ("Goodwill", "goodwill"), ("NoncurrentAssets", "noncurrent_assets"), ("Assets", "assets"),
    ("CurrentLiabilities", "current_liabilities"), ("NoncurrentLiabilities", "noncurrent_liabilities"),
    ("Liabilities", "liabilities"), ("EquityAttributableToOwnersOfParent", "parent_equity"),
    ("NoncontrollingInterests", "nci_equity"), ("Equity", "total_equity"),
    ("EquityAndLiabilities", "liabilities_and_equity"),
]
_BDC_FLOWS = [
    ("GrossInvestmentIncomeOperating", "tii"), ("InterestExpense", "interest"), ("OperatingExpenses", "expenses"),
    ("NetInvestmentIncome", "nii"), ("RealizedInvestmentGainsLosses", "realized"),
    ("UnrealizedGainLossOnInvestments", "unrealized"), ("NetIncomeLoss", "ni"),
    ("InvestmentCompanyInvestmentIncomeLossPerShare", "nii_per_share"), ("EarningsPerShareBasic", "eps_basic"),
    ("NetCashProvidedByUsedInOperatingActivities", "cfo"), ("NetCashProvidedByUsedInFinancingActivities", "cff"),
    ("CashAndCashEquivalentsPeriodIncreaseDecrease", "net_change"),
]
_BDC_BALANCES = [
    ("InvestmentOwnedAtFairValue", "investments"), ("CashAndCashEquivalentsAtCarryingValue", "cash"),
    ("Assets", "assets"), ("LongTermDebt", "debt"), ("Liabilities", "liabilities"), ("AssetsNet", "net_assets"),
    ("LiabilitiesAndStockholdersEquity", "liabilities_and_equity"), ("NetAssetValuePerShare", "nav_per_share"),
]
PER_SHARE = {"eps_basic", "eps_diluted", "nii_per_share", "nav_per_share"}


def _concepts(ticker: str, p: Profile) -> tuple[str, list, list]:
    if ticker == "GSBD":
        return "us-gaap", _BDC_FLOWS, _BDC_BALANCES
    if p.form == "20-F":
        return "ifrs-full", _IFRS_FLOWS, _IFRS_BALANCES
    skip = set()
    if not p.rnd:
        skip.add("rnd")
    if not p.inventory:
        skip.add("inventory")
    if not p.nci:
        skip |= {"consolidated", "ni_nci", "nci_equity", "total_equity"}
    if not p.redeemable:
        skip.add("redeemable")
    if not p.restricted:
        # Ending cash is then plain cash: CashAndCashEquivalentsAtCarryingValue serves both.
        skip |= {"restricted_cash", "cash_total"}
    flows = [(c, k) for c, k in _US_FLOWS if k not in skip]
    if not p.restricted:
        flows = [(c, k) if k != "net_change" else ("CashAndCashEquivalentsPeriodIncreaseDecrease", k)
                 for c, k in flows]
        flows = [(c, k) if k != "fx" else ("EffectOfExchangeRateOnCashAndCashEquivalents", k) for c, k in flows]
    return "us-gaap", flows, [(c, k) for c, k in _US_BALANCES if k not in skip]


def companyfacts_for(ticker: str, company, rng: random.Random, *, last_year: int,
                     filings: int = FILINGS) -> dict:
    """A companyfacts document for `company` (anything with company_name, sec_cik,
    fiscal_year_end) with annual filings for fiscal years last_year-filings+1 ..
    last_year. The numbers are generated; see the module docstring."""
    p = PROFILES[ticker]
    first = last_year - filings + 1
    model_years = list(range(first - 3, last_year + 1))
    model = (_bdc_model if ticker == "GSBD" else _operating_model)(p, model_years, rng)
    if ticker != "GSBD" and p.form == "20-F":
        for year_figures in model.values():
            year_figures["noncurrent_assets"] = year_figures["assets"] - year_figures["current_assets"]
            year_figures["noncurrent_liabilities"] = year_figures["liabilities"] - year_figures["current_liabilities"]
    taxonomy, flows, balances = _concepts(ticker, p)
    fye = company.fiscal_year_end
    cik = int(company.sec_cik)
    calendar_year = fye.strip().lower() == "december 31"
    end = {y: fiscal_year_end_date(fye, y) for y in model_years}
    per_share_unit = "USD/shares"
    facts: dict[str, dict] = {}
    dei: dict[str, dict] = {}

    def add(tax: dict, concept: str, unit: str, row: dict) -> None:
        body = tax.setdefault(concept, {"label": LABELS.get(concept, concept), "description": "", "units": {}})
        body["units"].setdefault(unit, []).append(row)

    seq = rng.randint(3, 40)
    for fy in range(first, last_year + 1):
        filed = filed_on(ticker, fye, fy, rng)
        seq += rng.randint(5, 60)
        # The all-zero filer prefix keeps the Sources links from landing on a real filing.
        accn = f"0000000000-{filed.year % 100:02d}-{seq:06d}"
        base = {"accn": accn, "fy": fy, "fp": "FY", "form": p.form, "filed": filed.isoformat()}
        latest_filing = fy == last_year
        for y in (fy - 2, fy - 1, fy):
            figures = dict(model[y])
            if ticker in RESTATED and latest_filing and y in (fy - 2, fy - 1):
                figures["revenue"] += RESTATED[ticker]
                figures["cogs"] += RESTATED[ticker]
            for concept, key in flows:
                if key not in figures:
                    continue
                unit = per_share_unit if key in PER_SHARE else "shares" if key == "shares_diluted" else "USD"
                val = figures[key] if unit != "USD" else int(figures[key]) * 1_000_000
                row = {"start": (end[y - 1] + timedelta(days=1)).isoformat(), "end": end[y].isoformat(), "val": val,
                       **base}
                if y == fy and calendar_year:  # EDGAR frames one fact per calendar period
                    row["frame"] = f"CY{y}"
                add(facts, concept, unit, row)
            if y == fy - 2:
                continue  # two years of balances per filing
            mistag = ticker in MISTAGGED and fy == last_year - MISTAGGED[ticker] and y == fy
            for concept, key in balances:
                if key not in figures:
                    continue
                unit = per_share_unit if key in PER_SHARE else "USD"
                value = figures[key]
                if mistag and key == "liabilities":
                    value -= round(figures["liabilities"] * 0.04)  # operating lease liabilities left out
                val = value if unit != "USD" else int(value) * 1_000_000
                row = {"end": end[y].isoformat(), "val": val, **base}
                if y == fy and calendar_year:
                    row["frame"] = f"CY{y}Q4I"
                add(facts, concept, unit, row)
        shares_out = round(p.shares * 0.99 * 1e6 * (1 + 0.002 * (fy - ANCHOR_YEAR)))
        add(dei, "EntityCommonStockSharesOutstanding", "shares",
            {"end": (filed - timedelta(days=rng.randint(5, 20))).isoformat(), "val": shares_out, **base})
    # The package's Cover shows the entity name: it says the figures are not the SEC's.
    return {"cik": cik, "entityName": f"{company.company_name} (generated demo data, not SEC filings)",
            "facts": {taxonomy: facts, "dei": dei}}


def filed_through(doc: dict, fiscal_year: int) -> dict:
    """The document as it stood once the annual filing for `fiscal_year` was in: every
    fact from filings for that year or earlier."""
    facts = {}
    for taxonomy, concepts in doc["facts"].items():
        kept = {}
        for concept, body in concepts.items():
            units = {unit: [r for r in rows if r["fy"] <= fiscal_year] for unit, rows in body["units"].items()}
            units = {unit: rows for unit, rows in units.items() if rows}
            if units:
                kept[concept] = {**body, "units": units}
        facts[taxonomy] = kept
    return {**doc, "facts": facts}
