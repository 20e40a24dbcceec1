"""Which concepts make which statement line, per template.

Companies tag the same line with different concepts, so each line lists the concepts
to try in order for each year; the first with an annual value wins and is recorded as
the line's source. A line the filing does not state may be derived from other lines
(`formula`); the workbook writes those as Excel formulas.

Labels are what students and the validators look for: "Revenue", "Net Income",
"Total Assets", "Total Liabilities and Equity", "Cash and Cash Equivalents",
"Ending Cash". Keep them stable.

The variants listed per line were checked against edgartools' standardised concept
mapping (github.com/dgunning/edgartools, edgar/xbrl/standardization/gaap_mappings.json
and concept_mappings.json, MIT licence): the cost-of-revenue, D&A, total-costs,
restricted-cash and net-change-in-cash concepts real filers use. Only the concept
names were taken, not the file.
"""

from __future__ import annotations

from dataclasses import dataclass

IS, BS, CF = "Income Statement", "Balance Sheet", "Cash Flow"
STATEMENT_SHEETS = (IS, BS, CF)

# Ending-cash concepts that include restricted cash: the tie then needs restricted cash.
INCLUDES_RESTRICTED = frozenset({
    "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents",
    "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalentsIncludingDisposalGroupAndDiscontinuedOperations",
    # IFRS: the cash-flow statement's cash when it differs from the balance sheet's.
    "CashAndCashEquivalentsIfDifferentFromStatementOfFinancialPosition",
})
# Net-change concepts measured on the same basis (cash plus restricted cash).
CHANGE_INCLUDES_RESTRICTED = frozenset({
    "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalentsPeriodIncreaseDecreaseIncludingExchangeRateEffect",
})
# Cost-of-revenue concepts that leave depreciation and amortisation out (Uber).
EXCLUDES_DA = "ExcludingDepreciationDepletionAndAmortization"


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    sheet: str
    concepts: tuple[str, ...] = ()
    instant: bool = False          # balance (instant) rather than flow (duration)
    unit: str = "money"            # money (millions) | per_share | shares (millions)
    formula: tuple[tuple[int, str, bool], ...] = ()  # (sign, line key, optional)
    required: bool = False
    always: bool = False           # shown (once, as "not reported") even when the filer never reports it
    bold: bool = False
    note: str | None = None
    # "first": the first concept with a value wins the year; "max": the widest of the
    # variants (D&A: a filer may tag depreciation alone next to the cash-flow total).
    pick: str = "first"
    # A stated total smaller than its reported components is replaced by their sum
    # (a filer's "RestrictedCash" that is only one of its restricted-cash lines).
    at_least_parts: bool = False


@dataclass(frozen=True)
class Template:
    name: str
    taxonomy: str
    lines: tuple[Line, ...]

    def line(self, key: str) -> Line:
        return next(line for line in self.lines if line.key == key)


def _f(*terms: str) -> tuple[tuple[int, str, bool], ...]:
    """'+revenue', '-cost_of_revenue', '+?nci' (optional: missing counts as zero)."""
    out = []
    for term in terms:
        sign = -1 if term[0] == "-" else 1
        body = term[1:]
        optional = body.startswith("?")
        out.append((sign, body.lstrip("?"), optional))
    return tuple(out)


def _money(key, label, sheet, concepts=(), **kw) -> Line:
    return Line(key=key, label=label, sheet=sheet, concepts=tuple(concepts), instant=(sheet == BS), **kw)


_CASH_FLOW_TAIL_US = (
    _money("fx_effect", "Effect of exchange rates on cash", CF, (
        "EffectOfExchangeRateOnCashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents",
        "EffectOfExchangeRateOnCashAndCashEquivalents")),
    _money("net_change_cash", "Net change in cash", CF, (
        "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalentsPeriodIncreaseDecreaseIncludingExchangeRateEffect",
        "CashAndCashEquivalentsPeriodIncreaseDecrease"),
        formula=_f("+operating_cf", "+?investing_cf", "+?financing_cf", "+?fx_effect"), bold=True),
    Line("ending_cash", "Ending Cash", CF, (
        "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents",
        "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalentsIncludingDisposalGroupAndDiscontinuedOperations",
        "CashAndCashEquivalentsAtCarryingValue", "Cash"),
        formula=_f("+cash", "+?restricted_cash"), instant=True, required=True, always=True, bold=True,
        note="Cash at end of period as the cash-flow statement reports it (often including restricted cash)."),
)

_RESTRICTED_CASH_US = (
    _money("restricted_cash_current", "Restricted cash, current", BS, (
        # The taxonomy labels RestrictedCashAndCashEquivalentsAtCarryingValue "…, Current".
        "RestrictedCashCurrent", "RestrictedCashAndCashEquivalentsCurrent",
        "RestrictedCashAndCashEquivalentsAtCarryingValue")),
    _money("restricted_cash_noncurrent", "Restricted cash, non-current", BS, (
        "RestrictedCashNoncurrent", "RestrictedCashAndCashEquivalentsNoncurrent")),
    _money("restricted_cash", "Restricted cash, total", BS, ("RestrictedCash", "RestrictedCashAndCashEquivalents"),
           formula=_f("+?restricted_cash_current", "+?restricted_cash_noncurrent"), at_least_parts=True),
)

_TEMPORARY_EQUITY_US = (
    _money("temporary_equity_parent", "Redeemable equity of the company (redeemable preferred, convertible notes)",
           BS, ("TemporaryEquityCarryingAmountAttributableToParent",)),
    _money("redeemable_nci", "Redeemable non-controlling interests", BS, (
        "RedeemableNoncontrollingInterestEquityCarryingAmount", "RedeemableNoncontrollingInterestEquityCommonCarryingAmount",
        "RedeemableNoncontrollingInterestEquityOtherCarryingAmount",
        "RedeemableNoncontrollingInterestEquityPreferredCarryingAmount")),
    _money("temporary_equity", "Total redeemable (temporary) equity", BS, (
        "TemporaryEquityCarryingAmountIncludingPortionAttributableToNoncontrollingInterests",),
        formula=_f("+?temporary_equity_parent", "+?redeemable_nci"), at_least_parts=True, bold=True,
        note="Mezzanine equity: every redeemable component the filer reports, summed."),
)

_DA_US = ("DepreciationDepletionAndAmortization", "DepreciationAmortizationAndAccretionNet",
          "DepreciationAndAmortization", "DepreciationAmortizationAndImpairment",
          "DepreciationDepletionAndAmortizationIncludingDiscontinuedOperations", "CostDepreciationAmortizationAndDepletion")

US_GAAP = Template("us-gaap", "us-gaap", (
    _money("revenue", "Revenue", IS, (
        "Revenues", "RevenueFromContractWithCustomerExcludingAssessedTax",
        "RevenueFromContractWithCustomerIncludingAssessedTax", "SalesRevenueNet", "SalesRevenueGoodsNet",
        "SalesRevenueServicesNet"), required=True, always=True, bold=True),
    _money("cost_of_revenue", "Cost of revenue", IS, (
        "CostOfRevenue", "CostOfGoodsAndServicesSold", "CostOfGoodsSold", "CostOfServices",
        "CostOfGoodsAndServiceExcludingDepreciationDepletionAndAmortization",
        "CostOfGoodsAndServicesExcludingDepreciationDepletionAndAmortization",
        "CostOfGoodsSoldExcludingDepreciationDepletionAndAmortization",
        "CostOfServicesExcludingDepreciationDepletionAndAmortization"), always=True),
    _money("gross_profit", "Gross profit", IS, ("GrossProfit",), formula=_f("+revenue", "-cost_of_revenue"),
           always=True, bold=True),
    _money("rnd", "Research and development", IS, ("ResearchAndDevelopmentExpense",)),
    _money("sales_marketing", "Sales and marketing", IS, ("SellingAndMarketingExpense",)),
    _money("general_admin", "General and administrative", IS, ("GeneralAndAdministrativeExpense",)),
    _money("sga", "Selling, general and administrative", IS, ("SellingGeneralAndAdministrativeExpense",)),
    _money("operating_expenses", "Operating expenses", IS, ("OperatingExpenses", "OperatingCostsAndExpenses"),
           formula=_f("+gross_profit", "-operating_income"), always=True),
    _money("costs_and_expenses", "Total costs and expenses", IS, ("CostsAndExpenses",),
           note="Cost of revenue and operating expenses together, as the filer totals them."),
    _money("operating_income", "Operating income", IS, ("OperatingIncomeLoss",),
           formula=_f("+gross_profit", "-operating_expenses"), always=True, bold=True),
    _money("interest_expense", "Interest expense", IS, ("InterestExpense", "InterestExpenseNonoperating")),
    _money("pretax_income", "Income before income taxes", IS, (
        "IncomeLossFromContinuingOperationsBeforeIncomeTaxesExtraordinaryItemsNoncontrollingInterest",
        "IncomeLossFromContinuingOperationsBeforeIncomeTaxesMinorityInterestAndIncomeLossFromEquityMethodInvestments")),
    _money("income_tax", "Income tax expense (benefit)", IS, ("IncomeTaxExpenseBenefit",)),
    _money("net_income_consolidated", "Net income including non-controlling interests", IS, ("ProfitLoss",),
           formula=_f("+net_income", "+?net_income_nci")),
    _money("net_income_nci", "Net income attributable to non-controlling interests", IS, (
        "NetIncomeLossAttributableToNoncontrollingInterest",)),
    _money("net_income", "Net Income", IS, ("NetIncomeLoss", "NetIncomeLossAvailableToCommonStockholdersBasic"),
           formula=_f("+net_income_consolidated", "-?net_income_nci"), required=True, always=True, bold=True,
           note="Net income attributable to the company (after non-controlling interests)."),
    Line("eps_basic", "EPS (basic)", IS, ("EarningsPerShareBasic", "EarningsPerShareBasicAndDiluted"), unit="per_share"),
    Line("eps_diluted", "EPS (diluted)", IS, ("EarningsPerShareDiluted", "EarningsPerShareBasicAndDiluted"),
         unit="per_share", always=True),
    Line("shares_diluted", "Diluted weighted average shares (millions)", IS, (
        "WeightedAverageNumberOfDilutedSharesOutstanding", "WeightedAverageNumberOfShareOutstandingBasicAndDiluted"),
        unit="shares"),

    _money("cash", "Cash and Cash Equivalents", BS, ("CashAndCashEquivalentsAtCarryingValue", "Cash"),
           required=True, always=True),
    *_RESTRICTED_CASH_US,
    _money("short_term_investments", "Short-term investments", BS, (
        "ShortTermInvestments", "AvailableForSaleSecuritiesDebtSecuritiesCurrent", "MarketableSecuritiesCurrent")),
    _money("receivables", "Accounts receivable, net", BS, ("AccountsReceivableNetCurrent",)),
    _money("inventory", "Inventories", BS, ("InventoryNet",)),
    _money("current_assets", "Total current assets", BS, ("AssetsCurrent",), bold=True),
    _money("ppe", "Property and equipment, net", BS, (
        "PropertyPlantAndEquipmentNet",
        "PropertyPlantAndEquipmentAndFinanceLeaseRightOfUseAssetAfterAccumulatedDepreciationAndAmortization")),
    _money("goodwill", "Goodwill", BS, ("Goodwill",)),
    _money("total_assets", "Total Assets", BS, ("Assets",), required=True, always=True, bold=True),
    _money("accounts_payable", "Accounts payable", BS, ("AccountsPayableCurrent",)),
    _money("current_liabilities", "Total current liabilities", BS, ("LiabilitiesCurrent",), bold=True),
    _money("long_term_debt", "Long-term debt", BS, (
        "LongTermDebtNoncurrent", "ConvertibleDebtNoncurrent", "LongTermDebt")),
    _money("total_liabilities", "Total liabilities", BS, ("Liabilities",),
           formula=_f("+total_liabilities_and_equity", "-?temporary_equity", "-total_equity"), always=True, bold=True),
    *_TEMPORARY_EQUITY_US,
    _money("parent_equity", "Shareholders' equity (parent)", BS, ("StockholdersEquity",)),
    _money("nci", "Non-controlling interests", BS, ("MinorityInterest", "NonredeemableNoncontrollingInterest")),
    _money("total_equity", "Total equity", BS, ("StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest",),
           formula=_f("+parent_equity", "+?nci"), required=True, always=True, bold=True,
           note="Including non-controlling interests; redeemable equity is shown separately above."),
    _money("total_liabilities_and_equity", "Total Liabilities and Equity", BS, ("LiabilitiesAndStockholdersEquity",),
           formula=_f("+total_liabilities", "+?temporary_equity", "+total_equity"), required=True, always=True,
           bold=True),

    _money("cf_net_income", "Net income including non-controlling interests", CF, (),
           formula=_f("+net_income_consolidated"), note="Linked to the income statement."),
    _money("depreciation", "Depreciation and amortization", CF, _DA_US, pick="max"),
    _money("share_based_comp", "Share-based compensation", CF, ("ShareBasedCompensation",)),
    _money("operating_cf", "Operating cash flow", CF, (
        "NetCashProvidedByUsedInOperatingActivities", "NetCashProvidedByUsedInOperatingActivitiesContinuingOperations"),
        required=True, always=True, bold=True),
    _money("capex", "Purchases of property and equipment", CF, ("PaymentsToAcquirePropertyPlantAndEquipment",),
           note="As reported: a positive number is cash paid."),
    _money("investing_cf", "Investing cash flow", CF, (
        "NetCashProvidedByUsedInInvestingActivities", "NetCashProvidedByUsedInInvestingActivitiesContinuingOperations"),
        always=True, bold=True),
    _money("financing_cf", "Financing cash flow", CF, (
        "NetCashProvidedByUsedInFinancingActivities", "NetCashProvidedByUsedInFinancingActivitiesContinuingOperations"),
        always=True, bold=True),
    *_CASH_FLOW_TAIL_US,
))

IFRS = Template("ifrs-full", "ifrs-full", (
    _money("revenue", "Revenue", IS, ("Revenue", "RevenueFromContractsWithCustomers"), required=True, always=True,
           bold=True),
    _money("cost_of_revenue", "Cost of revenue", IS, ("CostOfSales",), always=True),
    _money("gross_profit", "Gross profit", IS, ("GrossProfit",), formula=_f("+revenue", "-cost_of_revenue"),
           always=True, bold=True),
    _money("distribution_costs", "Distribution costs", IS, ("DistributionCosts",)),
    _money("admin_expense", "Administrative expenses", IS, ("AdministrativeExpense", "GeneralAndAdministrativeExpense")),
    _money("operating_expenses", "Operating expenses", IS, ("OperatingExpense", "OperatingExpenseExcludingCostOfSales"),
           formula=_f("+gross_profit", "-operating_income"), always=True),
    _money("operating_income", "Operating income", IS, ("ProfitLossFromOperatingActivities",),
           formula=_f("+gross_profit", "-operating_expenses"), always=True, bold=True),
    _money("finance_costs", "Finance costs", IS, ("FinanceCosts",)),
    _money("pretax_income", "Profit before tax", IS, ("ProfitLossBeforeTax",)),
    _money("income_tax", "Income tax expense", IS, ("IncomeTaxExpenseContinuingOperations",)),
    _money("net_income_consolidated", "Profit for the year (including non-controlling interests)", IS, ("ProfitLoss",),
           formula=_f("+net_income", "+?net_income_nci")),
    _money("net_income_nci", "Profit attributable to non-controlling interests", IS, (
        "ProfitLossAttributableToNoncontrollingInterests",)),
    _money("net_income", "Net Income", IS, ("ProfitLossAttributableToOwnersOfParent",),
           formula=_f("+net_income_consolidated", "-?net_income_nci"), required=True, always=True, bold=True,
           note="Profit attributable to owners of the parent."),
    Line("eps_basic", "EPS (basic)", IS, ("BasicEarningsLossPerShare",), unit="per_share"),
    Line("eps_diluted", "EPS (diluted)", IS, ("DilutedEarningsLossPerShare",), unit="per_share", always=True),

    _money("cash", "Cash and Cash Equivalents", BS, ("CashAndCashEquivalents",), required=True, always=True),
    _money("restricted_cash_current", "Restricted cash, current", BS, ("CurrentRestrictedCashAndCashEquivalents",)),
    _money("restricted_cash_noncurrent", "Restricted cash, non-current", BS, (
        "NoncurrentRestrictedCashAndCashEquivalents",)),
    _money("restricted_cash", "Restricted cash, total", BS, ("RestrictedCashAndCashEquivalents",),
           formula=_f("+?restricted_cash_current", "+?restricted_cash_noncurrent"), at_least_parts=True),
    _money("receivables", "Trade and other receivables", BS, ("TradeAndOtherCurrentReceivables",)),
    _money("inventory", "Inventories", BS, ("Inventories",)),
    _money("current_assets", "Total current assets", BS, ("CurrentAssets",), bold=True),
    _money("ppe", "Property, plant and equipment", BS, ("PropertyPlantAndEquipment",)),
    _money("investment_property", "Investment property", BS, ("InvestmentProperty",)),
    _money("goodwill", "Goodwill", BS, ("Goodwill",)),
    _money("noncurrent_assets", "Total non-current assets", BS, ("NoncurrentAssets",), bold=True),
    _money("total_assets", "Total Assets", BS, ("Assets",), required=True, always=True, bold=True),
    _money("current_liabilities", "Total current liabilities", BS, ("CurrentLiabilities",), bold=True),
    _money("noncurrent_liabilities", "Total non-current liabilities", BS, ("NoncurrentLiabilities",), bold=True),
    _money("total_liabilities", "Total liabilities", BS, ("Liabilities",),
           formula=_f("+total_liabilities_and_equity", "-total_equity"), always=True, bold=True),
    _money("parent_equity", "Equity attributable to owners of the parent", BS, ("EquityAttributableToOwnersOfParent",)),
    _money("nci", "Non-controlling interests", BS, ("NoncontrollingInterests",)),
    _money("total_equity", "Total equity", BS, ("Equity",), formula=_f("+parent_equity", "+?nci"), required=True,
           always=True, bold=True),
    _money("total_liabilities_and_equity", "Total Liabilities and Equity", BS, ("EquityAndLiabilities",),
           formula=_f("+total_liabilities", "+total_equity"), required=True, always=True, bold=True),

    _money("cf_net_income", "Profit for the year (including non-controlling interests)", CF, (),
           formula=_f("+net_income_consolidated"), note="Linked to the income statement."),
    _money("depreciation", "Depreciation and amortisation", CF, (
        "DepreciationAndAmortisationExpense", "AdjustmentsForDepreciationAndAmortisationExpense",
        "DepreciationAmortisationAndImpairmentLossReversalOfImpairmentLossRecognisedInProfitOrLoss",
        "DepreciationExpense"), pick="max"),
    _money("operating_cf", "Operating cash flow", CF, (
        "CashFlowsFromUsedInOperatingActivities", "CashFlowsFromUsedInOperations"), required=True, always=True,
        bold=True),
    _money("capex", "Purchases of property, plant and equipment", CF, (
        "PurchaseOfPropertyPlantAndEquipmentClassifiedAsInvestingActivities",)),
    _money("investing_cf", "Investing cash flow", CF, ("CashFlowsFromUsedInInvestingActivities",), always=True, bold=True),
    _money("financing_cf", "Financing cash flow", CF, ("CashFlowsFromUsedInFinancingActivities",), always=True, bold=True),
    _money("fx_effect", "Effect of exchange rates on cash", CF, ("EffectOfExchangeRateChangesOnCashAndCashEquivalents",)),
    # The "before effect of exchange rate changes" variant is left to the formula,
    # which adds the exchange-rate line, so ending cash still rolls forward.
    _money("net_change_cash", "Net change in cash", CF, ("IncreaseDecreaseInCashAndCashEquivalents",),
           formula=_f("+operating_cf", "+?investing_cf", "+?financing_cf", "+?fx_effect"), bold=True),
    Line("ending_cash", "Ending Cash", CF, (
        "CashAndCashEquivalentsIfDifferentFromStatementOfFinancialPosition", "CashAndCashEquivalents"),
        formula=_f("+cash"), instant=True, required=True, always=True, bold=True,
        note="Cash and cash equivalents at the end of the period (IFRS cash-flow statement)."),
))

# Business development companies and other investment companies report investment
# income, net investment income and net assets, not sales and gross margin.
INVESTMENT_COMPANY = Template("investment-company", "us-gaap", (
    _money("total_investment_income", "Total investment income", IS, (
        "GrossInvestmentIncomeOperating", "InvestmentIncomeInterestAndDividend", "Revenues",
        "InterestAndDividendIncomeOperating"), required=True, always=True, bold=True,
        note="The investment company's revenue: interest, dividends and fees from its portfolio."),
    _money("interest_expense", "Interest and other debt expenses", IS, ("InterestExpense", "InterestExpenseDebt")),
    _money("total_expenses", "Total expenses", IS, ("OperatingExpenses", "CostsAndExpenses"), always=True),
    _money("net_investment_income", "Net investment income", IS, (
        "NetInvestmentIncome", "InvestmentIncomeNet"), required=True, always=True, bold=True),
    _money("realized_gains", "Net realized gains (losses)", IS, (
        "RealizedInvestmentGainsLosses", "RealizedGainLossInvestments")),
    _money("unrealized_gains", "Net change in unrealized gains (losses)", IS, (
        "UnrealizedGainLossOnInvestments", "DebtAndEquitySecuritiesUnrealizedGainLoss")),
    _money("net_income", "Net Income", IS, ("NetIncomeLoss",), required=True, always=True, bold=True,
           note="Net increase (decrease) in net assets resulting from operations."),
    Line("nii_per_share", "Net investment income per share", IS, (
        "InvestmentCompanyInvestmentIncomeLossPerShare", "NetInvestmentIncomePerShare"), unit="per_share", always=True),
    Line("eps_basic", "EPS (basic)", IS, ("EarningsPerShareBasic", "EarningsPerShareBasicAndDiluted"), unit="per_share"),

    _money("investments", "Investments at fair value", BS, (
        "InvestmentOwnedAtFairValue", "InvestmentsFairValueDisclosure"), always=True),
    _money("investments_cost", "Investments at amortised cost", BS, ("InvestmentOwnedAtCost",)),
    _money("cash", "Cash and Cash Equivalents", BS, ("CashAndCashEquivalentsAtCarryingValue", "Cash"),
           required=True, always=True),
    *_RESTRICTED_CASH_US,
    _money("total_assets", "Total Assets", BS, ("Assets",), required=True, always=True, bold=True),
    _money("debt", "Debt", BS, ("LongTermDebt", "DebtInstrumentCarryingAmount", "LongTermDebtNoncurrent",
                                "DebtLongtermAndShorttermCombinedAmount")),
    _money("total_liabilities", "Total liabilities", BS, ("Liabilities",),
           formula=_f("+total_liabilities_and_equity", "-total_equity"), always=True, bold=True),
    _money("total_equity", "Net assets", BS, ("AssetsNet", "StockholdersEquity"), required=True, always=True,
           bold=True, note="Net assets (total equity) of the investment company."),
    _money("total_liabilities_and_equity", "Total Liabilities and Equity", BS, ("LiabilitiesAndStockholdersEquity",),
           formula=_f("+total_liabilities", "+total_equity"), required=True, always=True, bold=True),
    Line("nav_per_share", "Net asset value per share", BS, ("NetAssetValuePerShare",), instant=True,
         unit="per_share", always=True),

    _money("cf_net_income", "Net increase in net assets from operations", CF, (),
           formula=_f("+net_income"), note="Linked to the income statement."),
    _money("operating_cf", "Operating cash flow", CF, (
        "NetCashProvidedByUsedInOperatingActivities",), required=True, always=True, bold=True),
    _money("investing_cf", "Investing cash flow", CF, ("NetCashProvidedByUsedInInvestingActivities",)),
    _money("financing_cf", "Financing cash flow", CF, ("NetCashProvidedByUsedInFinancingActivities",),
           always=True, bold=True),
    *_CASH_FLOW_TAIL_US,
))

TEMPLATES = {t.name: t for t in (US_GAAP, IFRS, INVESTMENT_COMPANY)}
# Concepts whose annual presence marks a filer as an investment company.
INVESTMENT_COMPANY_MARKERS = ("NetAssetValuePerShare", "NetInvestmentIncome", "InvestmentOwnedAtFairValue")


def revenue_key(template: Template) -> str:
    return "total_investment_income" if template.name == INVESTMENT_COMPANY.name else "revenue"
