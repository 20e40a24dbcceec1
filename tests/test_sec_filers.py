"""The real companyfacts files in ../shared/data/sec build packages equal to the filings.

Expected figures were read by hand from each file's 10-K/20-F facts (latest-filed value
for the period, in millions of the reporting currency), not produced by the code here.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from core.package_workbook import PackageInfo, write_workbook
from core.sec import build_statements, load_companyfacts, validate
from core.sec.checks import tolerance
from tests.sec_support import shared_file

# file, currency, fiscal year end, {line: {year: value}} for the latest three years
FILERS = {
    "SNOW": ("CIK0001640147.json", "USD", "January 31", {
        "revenue": {2023: 2065.659, 2024: 2806.489, 2025: 3626.396},
        "net_income": {2023: -796.705, 2024: -836.097, 2025: -1285.640},
        "total_assets": {2023: 7722.322, 2024: 8223.383, 2025: 9033.938},
        "operating_cf": {2023: 545.639, 2024: 848.122, 2025: 959.764},
    }),
    "UBER": ("CIK0001543151.json", "USD", "December 31", {
        "revenue": {2023: 37281.0, 2024: 43978.0, 2025: 52017.0},
        "net_income": {2023: 1887.0, 2024: 9856.0, 2025: 10053.0},
        "total_assets": {2023: 38699.0, 2024: 51244.0, 2025: 61802.0},
        "operating_cf": {2023: 3585.0, 2024: 7137.0, 2025: 10099.0},
    }),
    "TSM": ("CIK0001046179.json", "TWD", "December 31", {
        "revenue": {2022: 2263891.3, 2023: 2161735.8, 2024: 2894307.7},
        "net_income": {2022: 992923.4, 2023: 851740.0, 2024: 1158380.2},
        "total_assets": {2022: 4964459.1, 2023: 5532196.6, 2024: 6691764.7},
        "operating_cf": {2022: 1610599.2, 2023: 1241967.3, 2024: 1826177.1},
    }),
    "LPA": ("CIK0001997711.json", "USD", "December 31", {
        "revenue": {2022: 31.983567, 2023: 39.436343, 2024: 43.862372},
        "net_income": {2022: 8.028610, 2023: 3.139333, 2024: -29.285428},
        "total_assets": {2022: 497.618869, 2023: 590.825310, 2024: 607.019578},
        "operating_cf": {2022: 19.611145, 2023: 17.199470, 2024: 19.391563},
    }),
}


def built(ticker: str, fye: str | None = None):
    name = FILERS[ticker][0]
    st = build_statements(load_companyfacts(shared_file(name)), ticker=ticker, fiscal_year_end=fye)
    return st, validate(st)


def workbook(st, findings):
    info = PackageInfo(ticker="T", company_name=st.entity_name, fiscal_year_end=None, revenue_model_type="QxP",
                       revenue_driver_notes=None, version=1, built_at=datetime(2026, 1, 1, tzinfo=UTC))
    return load_workbook(io.BytesIO(write_workbook(st, info, findings)))


@pytest.mark.parametrize("ticker", list(FILERS))
def test_shared_filer_package_equals_the_filing_and_passes_its_checks(ticker):
    _, currency, fye, expected = FILERS[ticker]
    st, findings = built(ticker)  # no fiscal year end given: read from the filing
    assert st.fye.describe() == fye and st.currency == currency
    assert [f.message for f in findings] == []
    for key, by_year in expected.items():
        for year, value in by_year.items():
            assert st.value(key, year) == pytest.approx(value, abs=1e-6), (key, year)
    for year in st.years:
        assets, tle = st.value("total_assets", year), st.value("total_liabilities_and_equity", year)
        assert abs(assets - tle) <= tolerance(assets, tle), f"FY{year} does not balance"
    for prev, year in zip(st.years, st.years[1:]):
        rolled = st.value("ending_cash", prev) + st.value("net_change_cash", year)
        assert rolled == pytest.approx(st.value("ending_cash", year), abs=0.5), f"FY{year} ending cash"

    wb = workbook(st, findings)
    for sheet in ("Income Statement", "Balance Sheet", "Cash Flow"):
        for row in wb[sheet].iter_rows(min_row=5):
            if row[0].value:
                assert any(c.value is not None for c in row[1:]), f"{sheet}: '{row[0].value}' is all empty"


def test_uber_cash_ends_with_restricted_cash_current_and_non_current():
    st, _ = built("UBER")
    # 2023: 4,680 + 805 + 1,519 = 7,004, as the cash-flow statement ends.
    assert (st.value("cash", 2023), st.value("restricted_cash_current", 2023),
            st.value("restricted_cash_noncurrent", 2023), st.value("ending_cash", 2023)) == (4680, 805, 1519, 7004)
    wb = workbook(st, [])
    labels = [r[0].value for r in wb["Balance Sheet"].iter_rows(min_row=5)]
    assert "Restricted cash, current" in labels and "Restricted cash, non-current" in labels
    tie = next(r for r in wb["Checks"].iter_rows(min_row=5) if (r[0].value or "").startswith("Cash and equivalents"))
    bs = {r[0].value: r[0].row for r in wb["Balance Sheet"].iter_rows(min_row=5) if r[0].value}
    assert tie[1].value == f"='Balance Sheet'!B{bs['Cash and Cash Equivalents']}+'Balance Sheet'!B{bs['Restricted cash, total']}"
    total = next(r for r in wb["Balance Sheet"].iter_rows(min_row=5) if r[0].value == "Restricted cash, total")
    assert total[1].value == f"=B{bs['Restricted cash, current']}+B{bs['Restricted cash, non-current']}"


def test_uber_cost_of_revenue_exclusive_of_da_gives_a_computed_gross_profit():
    st, _ = built("UBER")
    assert st.value("cost_of_revenue", 2023) == 22457.0 and st.value("costs_and_expenses", 2023) == 36171.0
    assert st.value("gross_profit", 2023) == pytest.approx(37281.0 - 22457.0)
    assert st.value("operating_expenses", 2023) == pytest.approx(37281.0 - 22457.0 - 1110.0)
    assert st.value("depreciation", 2023) == 823.0
    wb = workbook(st, [])
    income = {r[0].value: r for r in wb["Income Statement"].iter_rows(min_row=5) if r[0].value}
    assert "Cost of revenue (exclusive of depreciation and amortization)" in income
    assert str(income["Gross profit"][1].value).startswith("=")
    sources = [r for r in wb["Sources"].iter_rows(min_row=4, values_only=True) if r[1] == "Gross profit"]
    assert sources and all(r[7] == "computed" for r in sources)
