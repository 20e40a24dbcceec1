"""The seed of a fresh database: modules → units → lessons → activities.

The database is the source of truth once seeded (admins author it on the content page,
see core/authoring.py, and `core.content_tree` reads it); `ngi seed` only creates what
is missing. Each activity's `rubric_criteria` is read as `core.rules.ActivityRules`.
`ngi validate`, which has no database, reads this seed's rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.rules import DEFAULT_CRITERIA, ActivityRules

if TYPE_CHECKING:  # the tree and its look-ups need no database (`ngi validate` reads them)
    from sqlalchemy.orm import Session

    from core.models import LearningContent

STATEMENT_SHEETS = ["Income Statement", "Balance Sheet", "Cash Flow"]
# The checks of a three-statement forecast (a2 and the capstone, which adds its price targets).
STATEMENT_CHECKS = ["required_sheets", "no_error_values", "bs_balances", "cash_ties", "net_income_ties",
                    "forecast_formulas"]

CRITERIA = DEFAULT_CRITERIA


# Each criterion is scored 0..max points; an instructor's grade and the AI composite share it.
CRITERION_SCALE = 100

# What a PDF must contain to count as the memo or deck (core/validation/pdf.py checks it;
# the sections are core.rules.PDF_SECTIONS): a blank or near-empty file must not pass as
# a capstone memo.
PDF_RULES = {
    "pdf_memo": {"min_words": 300, "sections": ["thesis", "valuation", "risks", "recommendation"],
                 "price_target": True},
    "pdf_deck": {"min_words": 120, "sections": ["thesis", "valuation", "recommendation"], "price_target": True},
}


def _activity(key, title, seq, *, minutes, objectives, checks, sheets, weights, types, prereqs, description,
              blind=False):
    return dict(
        content_type="activity", content_key=key, title=title, sequence_order=seq,
        estimated_duration_minutes=minutes, learning_objectives=objectives, activity_type="excel_build",
        prerequisites=prereqs, description=description,
        rubric_criteria={
            "checks": checks, "required_sheets": sheets, "criteria": CRITERIA,
            "weights": weights, "submission_types": types,
            "scales": {name: CRITERION_SCALE for name in CRITERIA},
            "pdf": {"content": {t: PDF_RULES[t] for t in types if t in PDF_RULES}},
            # Blind marking: no one may reveal who submitted (review page) for this activity.
            "blind_marking": blind,
        },
    )


def _branch(kind, key, title, seq, description, children, prereqs=None):
    """A module or unit: a node that holds others."""
    return dict(content_type=kind, content_key=key, title=title, sequence_order=seq, description=description,
                **({"prerequisites": prereqs} if prereqs else {}), children=children)


def _lesson(key, title, seq, minutes, description, prereqs=None):
    return dict(
        content_type="lesson", content_key=key, title=title, sequence_order=seq,
        estimated_duration_minutes=minutes, description=description, prerequisites=prereqs or [],
    )


TREE: list[dict] = [
    _branch("module", "business_foundations", "Business Foundations", 1,
            "How a business turns customers into revenue, and how to map its drivers.", [
        _branch("unit", "unit_1_systems_thinking", "Systems thinking", 1,
                "Seeing a company as a system of volume, price and take-rate.", [
            _lesson("l1_business_model", "What a business model is", 1, 20,
                    "Customers, value proposition and how money flows back."),
            _lesson("l2_revenue_drivers", "Revenue drivers: Q × P × T", 2, 25,
                    "Decomposing revenue into volume, price and take-rate.", ["l1_business_model"]),
            _activity(
                "a1_drivers_map", "Drivers map for your company", 3, minutes=90,
                objectives=["Decompose revenue into Q × P (× T) drivers",
                            "Tie the driver build to reported revenue"],
                checks=["required_sheets", "no_error_values", "revenue_build"],
                sheets=["Revenue Drivers"],
                weights={"accuracy": 0.4, "documentation": 0.25, "presentation": 0.1, "reasoning": 0.25},
                types=["excel"], prereqs=["l2_revenue_drivers"],
                description="Build the revenue driver sheet from the company package and reconcile it "
                "to reported revenue for each historical year.",
            ),
        ]),
    ]),
    _branch("module", "accounting_i", "Accounting I", 2, "The three statements, working capital and debt.", [
        _branch("unit", "unit_2_three_statements", "The three statements", 1,
                "How the income statement, balance sheet and cash flow connect.", [
            _lesson("l3_income_statement", "The income statement", 1, 30, "From revenue to net income."),
            _lesson("l4_balance_sheet", "The balance sheet", 2, 30, "Assets = liabilities + equity.",
                    ["l3_income_statement"]),
            _lesson("l5_cash_flow", "The cash-flow statement", 3, 30,
                    "Reconciling net income to the change in cash.", ["l4_balance_sheet"]),
        ]),
        _branch("unit", "unit_3_working_capital", "Working capital and debt", 2,
                "Forecasting working capital and a debt schedule.", [
            _lesson("l6_working_capital", "Working-capital days", 1, 25, "Receivable, inventory and payable days."),
            _lesson("l7_debt_schedule", "Debt schedules", 2, 25, "Drawdowns, repayments and interest.",
                    ["l6_working_capital"]),
            _activity(
                "a2_wc_debt", "Three-statement forecast with working capital and debt", 3, minutes=180,
                objectives=["Forecast working capital from days metrics",
                            "Build a debt schedule that feeds interest and cash",
                            "Keep the three statements tied in every forecast year"],
                checks=STATEMENT_CHECKS, sheets=STATEMENT_SHEETS,
                weights={"accuracy": 0.45, "documentation": 0.2, "presentation": 0.1, "reasoning": 0.25},
                types=["excel"], prereqs=["l7_debt_schedule", "a1_drivers_map"],
                description="Extend the package's statements five years forward with formulas; the "
                "balance sheet must balance and cash must tie every year.",
            ),
        ], prereqs=["unit_2_three_statements"]),
    ], prereqs=["business_foundations"]),
    _branch("module", "finance_valuation", "Finance & Valuation", 3,
            "DCF and comparables, ending in the capstone price target.", [
        _branch("unit", "unit_4_valuation", "Valuation", 1, "Discounted cash flow and trading comparables.", [
            _lesson("l8_dcf", "Discounted cash flow", 1, 40, "Free cash flow, WACC and terminal value."),
            _lesson("l9_comparables", "Trading comparables", 2, 30, "Choosing peers and multiples.", ["l8_dcf"]),
            _activity(
                "capstone", "Capstone: valuation and recommendation", 3, minutes=480,
                objectives=["Value the company with a DCF and with comparables",
                            "Reconcile both into a final price target",
                            "Defend the recommendation in a memo"],
                checks=[*STATEMENT_CHECKS, "price_targets"], sheets=[*STATEMENT_SHEETS, "Valuation"],
                weights={"accuracy": 0.35, "documentation": 0.2, "presentation": 0.15, "reasoning": 0.3},
                types=["excel", "pdf_memo", "pdf_deck"], prereqs=["l9_comparables", "a2_wc_debt"],
                description="Submit the full model with DCF, comps and a final price target, plus "
                "an investment memo; the target goes onto the anonymized leaderboard.",
            ),
        ]),
    ], prereqs=["accounting_i"]),
]


def seed_catalogue(session: Session, *, publish: bool = True) -> int:
    """Create the nodes of the seed that are missing (by content_key), with their rules
    and prerequisite edges; returns how many rows were created.

    Existing rows are left exactly as authored: once seeded, the database is the source
    of truth, and re-seeding never undoes an admin's edit, move or deletion of a child
    of a node that exists.
    """
    from sqlalchemy import select

    from core.models import ContentPrerequisite, LearningContent

    existing = {c.content_key: c for c in session.scalars(select(LearningContent))}
    created: list[tuple[LearningContent, list[str]]] = []

    def visit(node: dict, parent: LearningContent | None) -> None:
        fields = {k: v for k, v in node.items() if k != "children"}
        row = existing.get(fields["content_key"])
        if row is None:
            if fields.get("rubric_criteria") is not None:
                fields["rubric_criteria"] = ActivityRules.from_dict(fields["rubric_criteria"]).to_dict()
            row = LearningContent(**fields, parent=parent, is_published=publish)
            session.add(row)
            existing[row.content_key] = row
            created.append((row, list(fields.get("prerequisites") or [])))
        for child in node.get("children", []):
            visit(child, row)

    for module in TREE:
        visit(module, None)
    session.flush()
    for row, requires in created:
        for key in requires:
            if key in existing:
                session.add(ContentPrerequisite(content_id=row.id, requires_id=existing[key].id))
    session.flush()
    return len(created)


def activity_keys() -> list[str]:
    keys: list[str] = []

    def walk(node):
        if node["content_type"] == "activity":
            keys.append(node["content_key"])
        for child in node.get("children", []):
            walk(child)

    for module in TREE:
        walk(module)
    return keys


def activity_spec(key: str) -> dict | None:
    """The catalogue's definition of an activity, with its module key. Needs no database."""

    def walk(node, module):
        module = node["content_key"] if node["content_type"] == "module" else module
        if node["content_type"] == "activity" and node["content_key"] == key:
            return {**node, "module": module}
        for child in node.get("children", []):
            found = walk(child, module)
            if found:
                return found
        return None

    for module in TREE:
        found = walk(module, None)
        if found:
            return found
    return None


def activity_rules(key: str) -> ActivityRules | None:
    """The seed's rules for an activity (None for an unknown key). Needs no database."""
    spec = activity_spec(key)
    return None if spec is None else ActivityRules.from_dict(spec.get("rubric_criteria"))
