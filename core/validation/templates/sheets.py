"""What each template holds: years, sheets and their names (standard and aliased),
drivers, assumptions, the flaws a model can carry, and the optional scenario grid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core import catalogue
from core.errors import Invalid
from core.rules import ActivityRules
from core.validation.workbook import col_letter

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

FIXED_CREATED = datetime(2026, 1, 1, tzinfo=UTC)

ACTUAL_YEARS = (2022, 2023, 2024)
FORECAST_YEARS = (2025, 2026, 2027, 2028, 2029)
YEARS = ACTUAL_YEARS + FORECAST_YEARS
N_ACT = len(ACTUAL_YEARS)
FLAW_YEAR = 2026  # the forecast year a flaw lands in (2027 for the balance-sheet plug)

# flaw -> the check it breaks (and only that one)
FLAWS: dict[str, str] = {
    "missing_sheet": "required_sheets",
    "error_value": "no_error_values",
    "unbalanced": "bs_balances",
    "cash_mismatch": "cash_ties",
    "net_income_mismatch": "net_income_ties",
    "hardcoded_forecast": "forecast_formulas",
    "revenue_mismatch": "revenue_build",
    "missing_price_target": "price_targets",
}

SHEETS_FOR = {
    "a1_drivers_map": ["drivers"],
    "a2_wc_debt": ["drivers", "assumptions", "income", "balance", "cash"],
    "capstone": ["drivers", "assumptions", "income", "balance", "cash", "valuation"],
}
STANDARD_NAMES = {"drivers": "Revenue Drivers", "assumptions": "Assumptions", "income": "Income Statement",
                  "balance": "Balance Sheet", "cash": "Cash Flow", "valuation": "Valuation"}
ALIASED_NAMES = {"drivers": "Drivers", "assumptions": "Inputs", "income": "IS", "balance": "BS",
                 "cash": "CF", "valuation": "DCF"}

DRIVER_LABELS = {
    "TSLA": ("Vehicle deliveries, thousands (Q)", "Average selling price, $ (P)", None),
    "COST": ("Transactions, thousands (Q)", "Average ticket, $ (P)", None),
    "SHOP": ("Gross merchandise volume orders, thousands (Q)", "Average order value, $ (P)", "Take rate (T)"),
    "UBER": ("Trips, thousands (Q)", "Average fare, $ (P)", "Take rate (T)"),
    "ABNB": ("Nights booked, thousands (Q)", "Average daily rate, $ (P)", "Take rate (T)"),
    "DE": ("Equipment units shipped, thousands (Q)", "Average selling price, $ (P)", None),
    "GE": ("Shop visits, thousands (Q)", "Revenue per shop visit, $ (P)", None),
    "KO": ("Unit cases, thousands (Q)", "Price per unit case, $ (P)", None),
    "BUD": ("Hectoliters, thousands (Q)", "Revenue per hectoliter, $ (P)", None),
    "GSBD": ("Interest-earning investments, $ thousands (Q)", "Weighted average yield (P)", None),
}
DEFAULT_DRIVERS = ("Volume, thousands (Q)", "Price, $ (P)", None)

ASSUMPTIONS = [  # key, label
    ("cogs_pct", "Cost of goods sold, % of revenue"), ("opex_pct", "Operating expenses, % of revenue"),
    ("dep_pct", "D&A, % of prior-year PP&E"), ("int_rate", "Interest rate on prior-year debt"),
    ("tax", "Tax rate"), ("ar_days", "Receivable days"), ("inv_days", "Inventory days"),
    ("ap_days", "Payable days"), ("capex_pct", "Capex, % of revenue"), ("issuance", "Debt issued / (repaid)"),
    ("payout", "Dividend payout, % of net income"),
]


def flaws_for(activity_id: str, rules: ActivityRules | None = None) -> list[str]:
    """The flaws a model of this activity can carry: those its rules' checks would catch."""
    checks = _rubric(activity_id, rules).check_ids
    return [flaw for flaw, check in FLAWS.items() if check in checks]


def _rubric(activity_id: str, rules: ActivityRules | None = None) -> ActivityRules:
    """The activity's rules (`rules`, e.g. the database's, or the seed's: templates need no
    database); refused for an activity without a template."""
    seed = catalogue.activity_rules(activity_id)
    if seed is None or activity_id not in SHEETS_FOR:
        raise Invalid(f"No template for activity {activity_id!r}; templates exist for {', '.join(SHEETS_FOR)}.")
    return rules or seed



@dataclass
class _Sheet:
    key: str
    name: str
    ws: Worksheet
    rows: dict[str, int] = field(default_factory=dict)


def _scenarios(self, cells: int) -> None:
    """A sensitivity grid: each cell grows its left neighbour by a per-row rate."""
    ws = self.wb.add_worksheet("Scenarios")
    rng = self.rng or random.Random(0)
    width = 50
    ws.write_string(0, 0, "Scenario growth grid", self.bold)
    rows = -(-cells // width)
    for r in range(1, rows + 1):
        rate = rng.uniform(-0.02, 0.05)
        ws.write_number(r, 0, rate)
        value = rng.uniform(50, 5000)
        ws.write_number(r, 1, value)
        for c in range(2, min(width, cells - (r - 1) * width) + 1):
            value *= 1 + (rate if rate > 0 else rate / 2)
            left = f"{col_letter(c)}{r + 1}"
            ws.write_formula(r, c, f"=IF($A{r + 1}>0,{left}*(1+$A{r + 1}),{left}*(1+$A{r + 1}/2))", None, value)
