"""Normalised annual statements: each line's value per fiscal year, with its source.

`build_statements` turns a checked companyfacts file into figures (in millions of
the reporting currency, per-share figures as reported) for the last N fiscal years.
It does no I/O; the workbook writer and the package service use its result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from core.errors import Invalid
from core.sec.facts import (
    CompanyFacts,
    Fact,
    annual_flow_ends,
    annual_values,
    filing_index_url,
)
from core.sec.fiscal import (
    FiscalYearEnd,
    describe_ends,
    fiscal_year_for,
    infer_fiscal_year_end,
    parse_fiscal_year_end,
)
from core.sec.mapping import (
    CHANGE_INCLUDES_RESTRICTED,
    EXCLUDES_DA,
    IFRS,
    INCLUDES_RESTRICTED,
    INVESTMENT_COMPANY,
    INVESTMENT_COMPANY_MARKERS,
    US_GAAP,
    Line,
    Template,
    revenue_key,
)

DEFAULT_YEARS = 5


@dataclass
class Cell:
    value: float | None = None
    fact: Fact | None = None      # the reported fact, when the filing states the figure
    derived: bool = False         # computed from other lines (an Excel formula)


@dataclass
class Statements:
    entity_name: str
    cik: str
    template: Template
    currency: str
    fye: FiscalYearEnd
    years: list[int]
    period_ends: dict[int, date]
    lines: dict[str, dict[int, Cell]] = field(default_factory=dict)
    # Whether the cash-flow statement's cash includes restricted cash (it then ends
    # on CashCashEquivalentsRestrictedCash…); decides the cash tie and roll-forward.
    cash_includes_restricted: bool = False
    formulas: dict[str, tuple] = field(default_factory=dict)  # per-package formula overrides

    def formula(self, line: Line) -> tuple:
        return self.formulas.get(line.key, line.formula)

    def label(self, line: Line) -> str:
        """The line's label, saying so when cost of revenue leaves out D&A."""
        if line.key == "cost_of_revenue" and any(
                c.fact is not None and EXCLUDES_DA in c.fact.concept for c in self.lines.get(line.key, {}).values()):
            return "Cost of revenue (exclusive of depreciation and amortization)"
        return line.label

    def reported(self, key: str) -> bool:
        return any(c.value is not None for c in self.lines.get(key, {}).values())

    @property
    def taxonomy(self) -> str:
        return self.template.taxonomy

    def value(self, key: str, year: int) -> float | None:
        cell = self.lines.get(key, {}).get(year)
        return cell.value if cell else None

    def cell(self, key: str, year: int) -> Cell:
        return self.lines.get(key, {}).get(year) or Cell()

    def shown_lines(self) -> list[Line]:
        """Lines with a figure in some year. A core line the filer never reports is
        not among them: the workbook shows it once as "not reported" (not_reported_lines)."""
        return [line for line in self.template.lines if self.reported(line.key)]

    def not_reported_lines(self) -> list[Line]:
        return [line for line in self.template.lines if line.always and not self.reported(line.key)]

    def filings(self) -> list[dict]:
        """Each filing that supplied a figure: form, accession, filed date, index link."""
        seen: dict[str, dict] = {}
        for cells in self.lines.values():
            for year, cell in cells.items():
                if cell.fact is None:
                    continue
                entry = seen.setdefault(cell.fact.accn, {
                    "form": cell.fact.form, "accession": cell.fact.accn, "filed": cell.fact.filed.isoformat(),
                    "url": filing_index_url(cell.fact.accn, self.cik), "fiscal_years": set(),
                })
                entry["fiscal_years"].add(year)
        out = sorted(seen.values(), key=lambda e: (e["filed"], e["accession"]))
        for entry in out:
            entry["fiscal_years"] = sorted(entry["fiscal_years"])
        return out

    def figures(self) -> dict[str, dict[str, dict[str, float | None]]]:
        """{sheet: {label: {"FY2023": value}}} of the shown lines, for diffs and the page."""
        out: dict[str, dict[str, dict[str, float | None]]] = {}
        for line in self.shown_lines():
            out.setdefault(line.sheet, {})[self.label(line)] = {
                f"FY{y}": self.value(line.key, y) for y in self.years}
        return out


def choose_template(cf: CompanyFacts, *, override: str | None = None) -> Template:
    if override:
        return {t.name: t for t in (US_GAAP, IFRS, INVESTMENT_COMPANY)}[override]
    us, ifrs = cf.taxonomy("us-gaap"), cf.taxonomy("ifrs-full")
    if ifrs and (not us or len(ifrs) >= len(us)):
        return IFRS
    if any(marker in us for marker in INVESTMENT_COMPANY_MARKERS) and "NetInvestmentIncome" in us:
        return INVESTMENT_COMPANY
    return US_GAAP


def _reporting_currency(cf: CompanyFacts, template: Template) -> str:
    """The currency most of the statement concepts are reported in."""
    counts: Counter[str] = Counter()
    concepts = cf.taxonomy(template.taxonomy)
    for line in template.lines:
        if line.unit != "money":
            continue
        for concept in line.concepts:
            for unit, rows in ((concepts.get(concept) or {}).get("units") or {}).items():
                if len(unit) == 3 and unit.isalpha() and unit.isupper():
                    counts[unit] += len(rows) if isinstance(rows, list) else 0
    if not counts:
        raise Invalid(f"{cf.source_name} has no statement figures in any currency.")
    return counts.most_common(1)[0][0]


def infer_fiscal_year_end_of(cf: CompanyFacts) -> FiscalYearEnd | None:
    """The fiscal year end the file's annual periods follow (None without annual flows)."""
    tpl = choose_template(cf)
    ends = annual_flow_ends(cf, tpl.taxonomy, tpl.line(revenue_key(tpl)).concepts) or annual_flow_ends(
        cf, tpl.taxonomy, tpl.line("operating_cf").concepts)
    return infer_fiscal_year_end(ends)


def resolve_fye(cf: CompanyFacts, template: Template, declared: str | None, ticker: str) -> FiscalYearEnd:
    """The declared fiscal year end, checked against the data; inferred if none."""
    rev = template.line(revenue_key(template))
    ends = annual_flow_ends(cf, template.taxonomy, rev.concepts) or annual_flow_ends(
        cf, template.taxonomy, template.line("operating_cf").concepts)
    fye = parse_fiscal_year_end(declared)
    inferred = infer_fiscal_year_end(ends)
    if fye is None:
        if inferred is None:
            raise Invalid(f"{ticker} has no fiscal year end and {cf.source_name} has no annual periods to infer it from.")
        return inferred
    recent = sorted(set(ends))[-8:]
    if recent and sum(fiscal_year_for(e, fye) is not None for e in recent) * 2 < len(recent):
        seen = inferred.describe() if inferred else "another date"
        raise Invalid(
            f"{ticker}'s fiscal year end is {declared!r}, but the annual periods in {cf.source_name} end on "
            f"{describe_ends(recent)} ({seen}); correct the company's fiscal year end first, e.g. "
            f"ngi companies edit {ticker} --fiscal-year-end '{seen}'."
        )
    return fye


def build_statements(
    cf: CompanyFacts, *, ticker: str, fiscal_year_end: str | None, years: int = DEFAULT_YEARS,
    template: str | None = None,
) -> Statements:
    if years < 1 or years > 30:
        raise Invalid(f"--years must be between 1 and 30, got {years}.")
    tpl = choose_template(cf, override=template)
    fye = resolve_fye(cf, tpl, fiscal_year_end, ticker)
    currency = _reporting_currency(cf, tpl)
    units_for = {"money": {currency}, "per_share": {f"{currency}/shares"}, "shares": {"shares"}}
    scale = {"money": 1e6, "per_share": 1.0, "shares": 1e6}

    stated: dict[str, dict[int, Fact]] = {}
    for line in tpl.lines:
        per_year: dict[int, Fact] = {}
        for concept in line.concepts:  # earlier concepts win for a year, or the widest with pick="max"
            for year, fact in annual_values(cf, tpl.taxonomy, concept, units=units_for[line.unit], fye=fye,
                                            instant=line.instant).items():
                held = per_year.get(year)
                if held is None or (line.pick == "max" and abs(fact.val) > abs(held.val)):
                    per_year[year] = fact
        stated[line.key] = per_year
    includes_restricted = _one_cash_basis(stated, tpl)

    rev = revenue_key(tpl)
    if not stated[rev]:
        tried = ", ".join(tpl.line(rev).concepts)
        raise Invalid(
            f"{cf.source_name} has no annual revenue: none of {tried} is reported in {tpl.taxonomy} "
            f"({currency}) in a 10-K, 20-F or 40-F."
        )
    # A year is in the package when the filings give both its income statement and
    # its balance sheet: a first 20-F/10-K carries one more year of flows than of
    # balances, and a year without a balance sheet cannot be checked.
    with_balance = set(stated[rev]) & set(stated["total_assets"])
    if not with_balance:
        raise Invalid(
            f"{cf.source_name} has no fiscal year with both revenue and total assets reported in an annual filing."
        )
    chosen = sorted(with_balance)[-years:]
    period_ends = {y: stated[rev][y].end for y in chosen}

    st = Statements(entity_name=cf.entity_name, cik=cf.cik, template=tpl, currency=currency, fye=fye,
                    years=chosen, period_ends=period_ends, cash_includes_restricted=includes_restricted)
    if not includes_restricted and "ending_cash" in {line.key for line in tpl.lines}:
        st.formulas["ending_cash"] = tuple(t for t in tpl.line("ending_cash").formula if t[1] == "cash")
    for line in tpl.lines:
        cells = {}
        for y in chosen:
            reported = stated[line.key].get(y)
            cells[y] = Cell(value=reported.val / scale[line.unit], fact=reported) if reported else Cell()
        st.lines[line.key] = cells
    _sum_parts(st)  # before deriving, so lines computed from a total use the corrected one
    _derive(st)
    return st


def _one_cash_basis(stated: dict[str, dict[int, Fact]], tpl: Template) -> bool:
    """Keep ending cash and the net change on one basis across the years, so that
    ending cash rolls forward. When the filer's cash-flow statement ends on cash
    plus restricted cash in any year, a year that only has balance-sheet cash is
    left to the formula (cash + restricted cash) instead of mixing the two."""
    ending, change = stated.get("ending_cash", {}), stated.get("net_change_cash", {})
    includes = any(f.concept in INCLUDES_RESTRICTED for f in ending.values()) or any(
        f.concept in CHANGE_INCLUDES_RESTRICTED for f in change.values())
    if includes:
        stated["ending_cash"] = {y: f for y, f in ending.items() if f.concept in INCLUDES_RESTRICTED}
        if tpl.taxonomy == "us-gaap":  # IFRS has no separate net-change concept on that basis
            stated["net_change_cash"] = {y: f for y, f in change.items()
                                         if f.concept in CHANGE_INCLUDES_RESTRICTED}
    return includes


def _sum_parts(st: Statements) -> None:
    """A stated total below the sum of its reported components (one filer's
    "restricted cash" is only the current part) gives way to the components' sum."""
    from core.sec.checks import tolerance

    for line in st.template.lines:
        if not line.at_least_parts:
            continue
        for y in st.years:
            cell = st.lines[line.key][y]
            parts = [st.value(key, y) for _, key, _ in line.formula]
            if cell.fact is None or cell.value is None or all(p is None for p in parts):
                continue
            total = sum(p for p in parts if p is not None)
            if total - cell.value > tolerance(total, cell.value):
                st.lines[line.key][y] = Cell(value=total, derived=True)


def _derive(st: Statements) -> None:
    """Fill unstated subtotals from their formula until nothing changes. A derived
    value needs every non-optional operand (and at least one operand) to have a
    figure, so two lines that could each be derived from the other never are."""
    changed = True
    while changed:
        changed = False
        for line in st.template.lines:
            formula = st.formula(line)
            if not formula:
                continue
            for y in st.years:
                if st.lines[line.key][y].value is not None:
                    continue
                total, used, ok = 0.0, 0, True
                for sign, key, optional in formula:
                    value = st.value(key, y)
                    if value is None:
                        if optional:
                            continue
                        ok = False
                        break
                    total += sign * value
                    used += 1
                if ok and used:
                    st.lines[line.key][y] = Cell(value=total, derived=True)
                    changed = True
