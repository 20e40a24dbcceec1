"""Paths to the SEC fixtures and the shared real companyfacts files."""

from __future__ import annotations

from pathlib import Path

from tests.support import unavailable

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "sec"
SHARED_SEC = ROOT.parent / "shared" / "data" / "sec"
SNOW_FILE = "CIK0001640147.json"   # Snowflake: US-GAAP, fiscal year ends 31 January
LPA_FILE = "CIK0001997711.json"    # Logistic Properties of the Americas: IFRS, 20-F

# Companies the tests register for the shared filers and the fixtures (not among the ten).
TEST_COMPANIES = {
    "SNOW": dict(company_name="Snowflake Inc.", cik="1640147", fiscal_year_end="January 31",
                 revenue_model_type="QxP", revenue_driver_notes="Q=Customers, P=Product revenue per customer"),
    "LPA": dict(company_name="Logistic Properties of the Americas", cik="1997711", fiscal_year_end="December 31",
                revenue_model_type="QxP", revenue_driver_notes="Q=Leasable square metres, P=Rent per square metre"),
    "RSTD": dict(company_name="Fixture Restated Corp", cik="900001", fiscal_year_end="December 31",
                 revenue_model_type="QxPxT+Subscription", revenue_driver_notes="GMV × Price × Take-rate"),
    "WEEK": dict(company_name="Fixture Warehouse Clubs", cik="900002", fiscal_year_end="Sunday nearest August 31"),
    "UNBL": dict(company_name="Fixture Unbalanced Inc", cik="900003", fiscal_year_end="December 31"),
    "JPKK": dict(company_name="Fixture Japan KK", cik="900004", fiscal_year_end="March 31"),
    "NREV": dict(company_name="Fixture No Revenue LLC", cik="900005", fiscal_year_end="December 31"),
    "QTRO": dict(company_name="Fixture Quarterly Co", cik="900006", fiscal_year_end="December 31"),
    "BDCX": dict(company_name="Fixture BDC Capital", cik="900007", fiscal_year_end="December 31",
                 revenue_model_type="QxP", revenue_driver_notes="Interest-earning investments × Weighted avg yield"),
}


def shared_file(name: str) -> Path:
    path = SHARED_SEC / name
    if not path.is_file():
        unavailable(f"the shared SEC file {path} is not present")
    return path


def register(engine, ticker: str):
    from core import companies
    from tests.support import SETUP_ADMIN

    return companies.add_company(engine, actor=SETUP_ADMIN, ticker=ticker, **TEST_COMPANIES[ticker])
