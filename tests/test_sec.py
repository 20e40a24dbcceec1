"""Parsing, fiscal years, mapping and validation of SEC companyfacts (no database)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from core.errors import Invalid
from core.sec import build_statements, check_cik, load_companyfacts, validate
from core.sec.fiscal import FiscalYearEnd, fiscal_year_for, parse_fiscal_year_end
from tests.sec_support import FIXTURES, LPA_FILE, SNOW_FILE, shared_file


def statements(name: str, fye: str | None = "December 31", **kw):
    return build_statements(load_companyfacts(FIXTURES / f"{name}.json"), ticker="TEST", fiscal_year_end=fye, **kw)


# --- fiscal years -------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("December 31", FiscalYearEnd(12, 31)),
    ("January 31", FiscalYearEnd(1, 31)),
    ("--01-31", FiscalYearEnd(1, 31)),
    ("Sunday nearest August 31", FiscalYearEnd(8, 31, weekday=6)),
    ("Sunday nearest October 31", FiscalYearEnd(10, 31, weekday=6)),
    ("last Saturday of January", FiscalYearEnd(1, 31, weekday=5, last=True)),
    ("last Saturday of September", FiscalYearEnd(9, 31, weekday=5, last=True)),
    ("June 30", FiscalYearEnd(6, 31)),
])
def test_fiscal_year_end_strings_are_understood(text, expected):
    assert parse_fiscal_year_end(text) == expected


def test_unreadable_fiscal_year_end_is_refused_with_the_value():
    with pytest.raises(Invalid, match="'sometime in spring'"):
        parse_fiscal_year_end("sometime in spring")


@pytest.mark.parametrize("end, fye, year", [
    (date(2025, 1, 31), "January 31", 2025),            # Snowflake's fiscal 2025
    (date(2023, 9, 3), "Sunday nearest August 31", 2023),   # COST 53-week year
    (date(2022, 8, 28), "Sunday nearest August 31", 2022),
    (date(2024, 11, 3), "Sunday nearest October 31", 2024),  # DE
    (date(2021, 1, 2), "December 31", 2020),              # 52/53-week calendar filer
    (date(2023, 5, 31), "December 31", None),             # a quarter end is no fiscal year end
])
def test_fiscal_year_comes_from_the_period_end(end, fye, year):
    assert fiscal_year_for(end, parse_fiscal_year_end(fye)) == year


def test_52_53_week_years_map_to_the_right_fiscal_year():
    st = statements("week52", "Sunday nearest August 31")
    assert st.years == [2022, 2023, 2024]
    assert st.period_ends[2023] == date(2023, 9, 3)
    assert st.value("revenue", 2023) == 2100.0


def test_fiscal_year_end_that_contradicts_the_data_is_refused():
    with pytest.raises(Invalid) as err:
        statements("week52", "March 31")
    # Real dates from the file and the rule they follow, never "August 31" for a Sunday year end.
    assert "end on 1 September 2024, 3 September 2023, 28 August 2022 (Sunday nearest August 31)" in str(err.value)
    assert "ngi companies edit TEST --fiscal-year-end 'Sunday nearest August 31'" in str(err.value)


# --- latest filed wins ---------------------------------------------------------

def test_restated_value_wins_over_the_original_and_records_its_accession():
    st = statements("restated")
    cell = st.cell("revenue", 2022)
    assert cell.value == 1010.0
    assert cell.fact.accn == "0000900001-24-000012"
    assert cell.fact.filed == date(2024, 2, 14)
    assert [f["accession"] for f in st.filings()] == ["0000900001-24-000012"]


def test_quarterly_facts_are_ignored():
    st = statements("restated")
    assert st.value("revenue", 2023) == 1200.0  # not the 10-Q's 290


def test_unstated_subtotals_are_derived_not_zero():
    st = statements("restated")
    gross = st.cell("gross_profit", 2023)
    assert gross.derived and gross.value == pytest.approx(1200 - 720)
    assert st.value("nci", 2023) is None  # never reported: stays missing


# --- validation --------------------------------------------------------------

def test_balanced_fixture_passes():
    assert validate(statements("restated")) == []


def test_unbalanced_fixture_fails_naming_year_line_and_both_values():
    findings = validate(statements("unbalanced"))
    assert len(findings) == 1
    f = findings[0]
    assert f.year == 2023 and f.check == "balance"
    assert "FY2023" in f.message and "Total Assets 600.0" in f.message and "550.0" in f.message


def test_cash_tie_reconciles_restricted_cash():
    st = statements("restated")
    assert st.cell("ending_cash", 2023).fact.concept.startswith("CashCashEquivalentsRestrictedCash")
    assert st.value("ending_cash", 2023) == st.value("cash", 2023) + st.value("restricted_cash", 2023)
    st.lines["restricted_cash"][2023].value = 1.0
    assert [f.check for f in validate(st)] == ["cash_tie"]


def test_tolerance_is_half_a_million_or_five_basis_points():
    st = statements("restated")
    st.lines["total_assets"][2023].value += 0.3  # within 0.5m
    assert validate(st) == []
    st.lines["total_assets"][2023].value += 0.5
    assert [f.year for f in validate(st)] == [2023]


def test_missing_required_line_is_named_per_year():
    st = statements("restated")
    st.lines["operating_cf"][2022].value = None
    st.lines["operating_cf"][2022].fact = None
    messages = [f.message for f in validate(st)]
    assert any(m.startswith("FY2022: Operating cash flow is missing") for m in messages)


# --- templates and currencies -------------------------------------------------------

def test_investment_company_gets_its_own_mapping():
    st = statements("bdc")
    assert st.template.name == "investment-company"
    labels = [line.label for line in st.shown_lines()]
    assert {"Total investment income", "Net investment income", "Net assets", "Net asset value per share"} <= set(labels)
    assert "Gross profit" not in labels
    assert st.value("nav_per_share", 2023) == 15.4
    assert validate(st) == []


def test_foreign_currency_is_labelled_never_called_usd():
    st = statements("eur_ifrs")
    assert st.template.name == "ifrs-full" and st.currency == "EUR"
    assert st.value("revenue", 2023) == 750.0


# --- bad input ---------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("not_json", "not_json.json is not JSON"),
    ("not_companyfacts", "not an SEC companyfacts file"),
    ("unknown_taxonomy", r"no us-gaap or ifrs-full facts \(taxonomies found: jp-gaap\)"),
    ("quarterly_only", "has no annual facts"),
])
def test_bad_files_are_refused_with_a_clear_message(name, message):
    with pytest.raises(Invalid, match=message):
        load_companyfacts(FIXTURES / f"{name}.json")


def test_missing_revenue_is_a_clear_error():
    with pytest.raises(Invalid, match="no annual revenue: none of Revenues"):
        statements("no_revenue")


def test_file_over_100_mb_is_refused_before_reading(tmp_path):
    big = tmp_path / "huge.json"
    with open(big, "wb") as fh:  # sparse: no disk is used
        fh.truncate(101 * 1024 * 1024)
    with pytest.raises(Invalid, match=r"huge.json is 101 MB"):
        load_companyfacts(big)


def test_cik_mismatch_is_refused():
    cf = load_companyfacts(FIXTURES / "restated.json")
    check_cik(cf, "0000900001", "RSTD")
    with pytest.raises(Invalid, match=r"is for CIK 900001 .* but KO is registered with CIK 21344"):
        check_cik(cf, "21344", "KO")


def test_malformed_fact_names_the_concept(tmp_path):
    doc = json.loads((FIXTURES / "restated.json").read_text())
    del doc["facts"]["us-gaap"]["Revenues"]["units"]["USD"][0]["end"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(Invalid, match="us-gaap:Revenues fact in USD is malformed"):
        build_statements(load_companyfacts(path), ticker="RSTD", fiscal_year_end="December 31")


# --- the shared real files ---------------------------------------------------------

def snow():
    return build_statements(load_companyfacts(shared_file(SNOW_FILE)), ticker="SNOW", fiscal_year_end="January 31")


def test_us_gaap_filer_with_january_year_end_gets_the_right_fiscal_years():
    st = snow()
    assert st.entity_name == "SNOWFLAKE INC." and st.template.name == "us-gaap"
    assert st.years == [2021, 2022, 2023, 2024, 2025]
    assert st.period_ends[2025] == date(2025, 1, 31) and st.period_ends[2021] == date(2021, 1, 31)


def test_us_gaap_figures_equal_the_values_in_the_file():
    path = shared_file(SNOW_FILE)
    raw = json.loads(path.read_text())["facts"]["us-gaap"]
    st = snow()

    def reported(concept, end, start=None):
        rows = [r for r in raw[concept]["units"]["USD"] if r["end"] == end and r.get("start") == start
                and r["form"].startswith("10-K")]
        return max(rows, key=lambda r: r["filed"])["val"] / 1e6

    assert st.value("revenue", 2025) == reported("RevenueFromContractWithCustomerExcludingAssessedTax",
                                                 "2025-01-31", "2024-02-01")
    assert st.value("total_assets", 2024) == reported("Assets", "2024-01-31")
    assert st.value("net_income", 2023) == reported("NetIncomeLoss", "2023-01-31", "2022-02-01")
    assert st.value("ending_cash", 2025) == reported(
        "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalents", "2025-01-31")
    assert st.cell("revenue", 2025).fact.accn == "0001640147-25-000052"


def test_us_gaap_filer_balance_and_cash_checks_pass():
    assert validate(snow()) == []


def test_ifrs_filer_uses_ifrs_full_concepts():
    st = build_statements(load_companyfacts(shared_file(LPA_FILE)), ticker="LPA", fiscal_year_end="December 31")
    assert st.template.name == "ifrs-full" and st.currency == "USD"
    concepts = {c.fact.taxonomy for cells in st.lines.values() for c in cells.values() if c.fact}
    assert concepts == {"ifrs-full"}
    assert st.cell("revenue", 2024).fact.concept == "Revenue"
    assert st.cell("total_assets", 2024).fact.form == "20-F"
    assert validate(st) == []


# Real period ends: Apple (FY2020-FY2024), Target, a June filer, Deere, Costco.
APPLE = [date(2020, 9, 26), date(2021, 9, 25), date(2022, 9, 24), date(2023, 9, 30), date(2024, 9, 28)]
TARGET = [date(2022, 1, 29), date(2023, 1, 28), date(2024, 2, 3), date(2025, 2, 1)]
JUNE = [date(2022, 6, 30), date(2023, 6, 30), date(2024, 6, 30)]
DEERE = [date(2021, 10, 31), date(2022, 10, 30), date(2023, 10, 29), date(2024, 10, 27)]
COSTCO = [date(2022, 8, 28), date(2023, 9, 3), date(2024, 9, 1)]


@pytest.mark.parametrize("ends, rule", [
    (APPLE, "last Saturday of September"), (TARGET, "Saturday nearest January 31"), (JUNE, "June 30"),
    (DEERE, "last Sunday of October"), (COSTCO, "Sunday nearest August 31"),
])
def test_fiscal_year_end_rule_is_inferred_from_the_annual_periods(ends, rule):
    from core.sec.fiscal import infer_fiscal_year_end

    inferred = infer_fiscal_year_end(ends)
    assert inferred.describe() == rule
    # Every one of those years is recognised under the inferred rule, one fiscal year each.
    years = [fiscal_year_for(end, inferred) for end in ends]
    assert None not in years and years == list(range(years[0], years[0] + len(ends)))
    assert parse_fiscal_year_end(rule) == inferred


def test_a_month_end_rule_never_names_a_day_the_month_does_not_have():
    assert parse_fiscal_year_end("last Saturday of September").describe() == "last Saturday of September"
    assert parse_fiscal_year_end("September 30").describe() == "September 30"
    with pytest.raises(Invalid, match="'September 31'"):
        parse_fiscal_year_end("September 31")


# --- Tesla: mezzanine equity, restricted cash, D&A variants (tests/fixtures/sec/tesla.json) ---------

def test_tesla_mezzanine_equity_is_summed_so_fy2020_balances():
    st = statements("tesla", years=2)
    assert st.years == [2020, 2021]
    # FY2020: 28,418 + 51 + 604 + 23,075 = 52,148
    assert (st.value("temporary_equity_parent", 2020), st.value("redeemable_nci", 2020),
            st.value("temporary_equity", 2020)) == (51.0, 604.0, 655.0)
    assert st.value("total_liabilities", 2020) + st.value("temporary_equity", 2020) + \
        st.value("total_equity", 2020) == 52148.0
    assert (st.value("parent_equity", 2020), st.value("nci", 2020)) == (22225.0, 850.0)  # split as reported
    assert validate(st) == []


def test_tesla_ending_cash_is_the_cash_flow_statements_and_rolls_forward():
    st = statements("tesla", years=2)
    # FY2021 is tagged with the "including disposal group" variant: 18,144, not balance-sheet 17,576.
    assert st.value("ending_cash", 2021) == 18144.0 and st.value("cash", 2021) == 17576.0
    assert st.value("ending_cash", 2020) + st.value("net_change_cash", 2021) == st.value("ending_cash", 2021)
    assert st.value("restricted_cash", 2021) == 345.0 + 223.0


def test_tesla_fy2017_depreciation_is_the_reported_cash_flow_figure():
    st = statements("tesla", years=3)
    assert st.years[0] == 2017 and st.value("depreciation", 2017) == pytest.approx(1636.003)


def test_ending_cash_that_does_not_roll_forward_is_a_finding(tmp_path):
    doc = json.loads((FIXTURES / "tesla.json").read_text())
    change = doc["facts"]["us-gaap"][
        "CashCashEquivalentsRestrictedCashAndRestrictedCashEquivalentsPeriodIncreaseDecreaseIncludingExchangeRateEffect"]
    for row in change["units"]["USD"]:
        if row["end"] == "2021-12-31":
            row["val"] = -1_000_000_000
    path = tmp_path / "tesla_bad.json"
    path.write_text(json.dumps(doc))
    st = build_statements(load_companyfacts(path), ticker="TSLA", fiscal_year_end="December 31", years=2)
    [finding] = [f for f in validate(st) if f.check == "cash_roll_forward"]
    assert finding.message == ("FY2021: Ending Cash 18,144.0 does not roll forward from FY2020's 19,901.0 plus "
                               "Net change in cash -1,000.0 = 18,901.0 (difference -757.0 USD m).")


def test_bdc_shaped_like_a_real_10k_builds_an_investment_company_package():
    st = statements("bdc_10k_shape", fye=None)
    assert st.template.name == "investment-company" and st.fye.describe() == "December 31"
    assert st.years == [2022, 2023, 2024]
    assert [st.value("total_investment_income", y) for y in st.years] == [350.0, 450.0, 430.0]  # the 10-Q's 105 is not
    assert st.value("net_investment_income", 2024) == 215.0 and st.value("nii_per_share", 2024) == 1.93
    assert (st.value("investments", 2024), st.value("investments_cost", 2024)) == (3400.0, 3560.0)
    assert st.value("total_equity", 2024) == 1570.0 and st.value("nav_per_share", 2024) == 13.95
    # Ending cash includes restricted cash: 55 + 4 = 59, rolled forward from 55 + 4.
    assert st.value("ending_cash", 2024) == 59.0 and st.value("restricted_cash", 2024) == 4.0
    assert validate(st) == []
    labels = {line.label for line in st.shown_lines()}
    assert "Gross profit" not in labels and "Investing cash flow" not in labels
