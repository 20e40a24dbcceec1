"""SEC companyfacts → normalised annual statements → package checks.

facts.py loads and checks the file and picks annual, latest-filed facts; fiscal.py
derives fiscal years from period ends; mapping.py says which concepts make which
line (us-gaap, ifrs-full, investment companies); statements.py assembles the years;
checks.py validates; fetch.py downloads from the SEC API.
"""

from core.sec.checks import Finding, validate
from core.sec.facts import CompanyFacts, check_cik, load_companyfacts
from core.sec.statements import DEFAULT_YEARS, Statements, build_statements

__all__ = [
    "DEFAULT_YEARS",
    "CompanyFacts",
    "Finding",
    "Statements",
    "build_statements",
    "check_cik",
    "load_companyfacts",
    "validate",
]
