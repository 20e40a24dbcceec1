"""Package validation, in Python on the extracted figures, before anything is saved.

Each finding names the fiscal year, the line and both values. Tolerance is
max(0.5 million, 0.05 %) of the larger figure, in the reporting currency.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.sec.statements import Statements

ABS_TOLERANCE = 0.5      # millions
REL_TOLERANCE = 0.0005   # 0.05 %


@dataclass(frozen=True)
class Finding:
    check: str
    year: int
    line: str
    message: str
    expected: float | None = None
    actual: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def tolerance(a: float, b: float) -> float:
    return max(ABS_TOLERANCE, REL_TOLERANCE * max(abs(a), abs(b)))


def _fmt(value: float) -> str:
    return f"{value:,.1f}"


def validate(st: Statements) -> list[Finding]:
    findings: list[Finding] = []
    cur = f"{st.currency} m"
    label = {line.key: line.label for line in st.template.lines}
    for y in st.years:
        fy = f"FY{y}"
        for line in st.template.lines:
            if line.required and st.value(line.key, y) is None:
                tried = ", ".join(line.concepts) or "its formula"
                findings.append(Finding("required", y, line.label,
                                        f"{fy}: {line.label} is missing (nothing reported for {tried})."))

        assets, tle = st.value("total_assets", y), st.value("total_liabilities_and_equity", y)
        if assets is not None and tle is not None and abs(assets - tle) > tolerance(assets, tle):
            findings.append(Finding(
                "balance", y, label["total_assets"],
                f"{fy}: Total Assets {_fmt(assets)} does not equal Total Liabilities and Equity {_fmt(tle)} "
                f"(difference {_fmt(assets - tle)} {cur}).", expected=tle, actual=assets))
        liab, equity = st.value("total_liabilities", y), st.value("total_equity", y)
        temp = st.value("temporary_equity", y) or 0.0
        tle_cell = st.cell("total_liabilities_and_equity", y)
        if tle is not None and liab is not None and equity is not None and not tle_cell.derived \
                and not st.cell("total_liabilities", y).derived:
            parts = liab + temp + equity
            if abs(parts - tle) > tolerance(parts, tle):
                findings.append(Finding(
                    "balance", y, label["total_liabilities_and_equity"],
                    f"{fy}: Total liabilities {_fmt(liab)} + temporary equity {_fmt(temp)} + total equity "
                    f"{_fmt(equity)} = {_fmt(parts)}, but Total Liabilities and Equity is {_fmt(tle)}.",
                    expected=tle, actual=parts))

        findings.extend(_cash_tie(st, y, cur))
        findings.extend(_roll_forward(st, y, cur))

        consolidated, ni = st.cell("net_income_consolidated", y), st.cell("net_income", y)
        # Only reported figures (a cell with a fact always has its value) are compared.
        if consolidated.fact is not None and ni.fact is not None \
                and consolidated.value is not None and ni.value is not None:
            nci = st.value("net_income_nci", y) or 0.0
            expected = consolidated.value - nci
            if abs(expected - ni.value) > tolerance(expected, ni.value):
                findings.append(Finding(
                    "net_income", y, "Net Income",
                    f"{fy}: Net Income {_fmt(ni.value)} does not equal the cash-flow starting line "
                    f"{_fmt(consolidated.value)} less non-controlling interests {_fmt(nci)} = {_fmt(expected)}.",
                    expected=expected, actual=ni.value))
    return findings


def cash_tie_parts(st: Statements, year: int) -> tuple[bool, float | None, float | None]:
    """(ending cash includes restricted cash, balance-sheet cash, restricted cash:
    the total, which already adds every current and non-current component reported)."""
    return st.cash_includes_restricted, st.value("cash", year), st.value("restricted_cash", year)


def _roll_forward(st: Statements, y: int, cur: str) -> list[Finding]:
    """Previous ending cash + this year's net change = this year's ending cash."""
    index = st.years.index(y)
    if index == 0 or st.years[index - 1] != y - 1:  # no pair across a gap in the years
        return []
    prev, change, ending = st.value("ending_cash", st.years[index - 1]), st.value("net_change_cash", y), \
        st.value("ending_cash", y)
    if prev is None or change is None or ending is None:
        return []
    expected = prev + change
    if abs(expected - ending) <= tolerance(expected, ending):
        return []
    return [Finding(
        "cash_roll_forward", y, "Ending Cash",
        f"FY{y}: Ending Cash {_fmt(ending)} does not roll forward from FY{st.years[index - 1]}'s {_fmt(prev)} "
        f"plus Net change in cash {_fmt(change)} = {_fmt(expected)} (difference {_fmt(ending - expected)} {cur}).",
        expected=expected, actual=ending)]


def _cash_tie(st: Statements, y: int, cur: str) -> list[Finding]:
    ending = st.value("ending_cash", y)
    includes, cash, restricted = cash_tie_parts(st, y)
    if ending is None or cash is None:
        return []
    fy = f"FY{y}"
    if includes and restricted is None:
        if abs(ending - cash) <= tolerance(ending, cash):
            return []  # nothing restricted to reconcile
        return [Finding(
            "cash_tie", y, "Ending Cash",
            f"{fy}: Ending Cash {_fmt(ending)} includes restricted cash, but the balance sheet's restricted cash "
            f"is not reported, so it cannot be reconciled with Cash and Cash Equivalents {_fmt(cash)} "
            f"(difference {_fmt(ending - cash)} {cur}).", expected=cash, actual=ending)]
    expected = cash + ((restricted or 0.0) if includes else 0.0)
    if abs(ending - expected) <= tolerance(ending, expected):
        return []
    what = f"Cash and Cash Equivalents {_fmt(cash)}" + (f" + restricted cash {_fmt(restricted)}" if includes and restricted is not None else "")
    return [Finding("cash_tie", y, "Ending Cash",
                    f"{fy}: Ending Cash {_fmt(ending)} does not tie to {what} = {_fmt(expected)} "
                    f"(difference {_fmt(ending - expected)} {cur}).", expected=expected, actual=ending)]
