"""Loading an SEC companyfacts file and picking its annual facts.

The format is what https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json
serves: {cik, entityName, facts: {taxonomy: {Concept: {label, description,
units: {unit: [{start?, end, val, accn, fy, fp, form, filed, frame?}]}}}}}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from core.errors import Invalid
from core.sec.fiscal import FiscalYearEnd, fiscal_year_for, is_annual_duration

MAX_BYTES = 100 * 1024 * 1024
ANNUAL_FORMS = frozenset({"10-K", "10-K/A", "20-F", "20-F/A", "40-F", "40-F/A"})
STATEMENT_TAXONOMIES = ("us-gaap", "ifrs-full")
KNOWN_TAXONOMIES = frozenset({"us-gaap", "ifrs-full", "dei", "srt", "invest"})


@dataclass(frozen=True)
class CompanyFacts:
    cik: str  # digits without leading zeros
    entity_name: str
    facts: dict
    source_name: str

    def taxonomy(self, name: str) -> dict:
        return self.facts.get(name) or {}


@dataclass(frozen=True)
class Fact:
    """One reported value, with where it came from."""

    taxonomy: str
    concept: str
    unit: str
    start: date | None
    end: date
    val: float
    accn: str
    form: str
    filed: date

    @property
    def filing_url(self) -> str:
        return filing_index_url(self.accn)


def filing_index_url(accn: str, cik: str | None = None) -> str:
    # The accession's first ten digits are the filer agent's CIK, which EDGAR also
    # accepts in the path; passing the company's CIK gives the canonical address.
    folder_cik = (cik or accn.split("-")[0]).lstrip("0") or "0"
    return f"https://www.sec.gov/Archives/edgar/data/{folder_cik}/{accn.replace('-', '')}/{accn}-index.htm"


def _digits(cik) -> str:
    text = str(cik).strip()
    if text.upper().startswith("CIK"):
        text = text[3:]
    if not text.isdigit():
        raise ValueError(text)
    return text.lstrip("0") or "0"


def load_companyfacts(source: str | Path | bytes, *, name: str | None = None, max_bytes: int = MAX_BYTES) -> CompanyFacts:
    """Read and check a companyfacts file (a path or its bytes). Every refusal is an
    Invalid naming the file; nothing here writes anywhere."""
    if isinstance(source, (bytes, bytearray)):
        name = name or "the uploaded file"
        if len(source) > max_bytes:
            raise Invalid(f"{name} is {len(source) / 1048576:.0f} MB; companyfacts files over {max_bytes // 1048576} MB are refused.")
        raw = bytes(source)
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise Invalid(f"{path} does not exist or is not a file.")
        size = path.stat().st_size
        if size > max_bytes:
            raise Invalid(f"{name} is {size / 1048576:.0f} MB; companyfacts files over {max_bytes // 1048576} MB are refused.")
        raw = path.read_bytes()
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError:
        raise Invalid(f"{name} is not JSON: it is not UTF-8 text.") from None
    except json.JSONDecodeError as err:
        raise Invalid(f"{name} is not JSON: {err.msg} at line {err.lineno}, column {err.colno}.") from None
    return _check_document(doc, name)


def _check_document(doc, name: str) -> CompanyFacts:
    not_cf = f"{name} is JSON but not an SEC companyfacts file"
    if not isinstance(doc, dict):
        raise Invalid(f"{not_cf}: the top level is a {type(doc).__name__}, not an object.")
    if not isinstance(doc.get("facts"), dict):
        raise Invalid(f"{not_cf}: it has no 'facts' object.")
    if "cik" not in doc:
        raise Invalid(f"{not_cf}: it has no 'cik'.")
    try:
        cik = _digits(doc["cik"])
    except ValueError:
        raise Invalid(f"{not_cf}: 'cik' is {doc['cik']!r}, not a number.") from None
    facts = doc["facts"]
    for taxonomy, concepts in facts.items():
        if not isinstance(concepts, dict):
            raise Invalid(f"{not_cf}: facts['{taxonomy}'] is not an object of concepts.")
    present = [t for t in STATEMENT_TAXONOMIES if facts.get(t)]
    if not present:
        found = ", ".join(sorted(facts)) or "none"
        raise Invalid(
            f"{name} has no us-gaap or ifrs-full facts (taxonomies found: {found}); only US-GAAP "
            "and IFRS filers can be turned into a package."
        )
    cf = CompanyFacts(cik=cik, entity_name=str(doc.get("entityName") or ""), facts=facts, source_name=name)
    if not any(_has_annual(cf.taxonomy(t)) for t in present):
        raise Invalid(
            f"{name} has no annual facts: no value comes from a 10-K, 20-F or 40-F filing "
            "(only quarterly or other reports)."
        )
    return cf


def _has_annual(concepts: dict) -> bool:
    for body in concepts.values():
        units = body.get("units") if isinstance(body, dict) else None
        if not isinstance(units, dict):
            continue
        for rows in units.values():
            if isinstance(rows, list) and any(isinstance(r, dict) and r.get("form") in ANNUAL_FORMS for r in rows):
                return True
    return False


def check_cik(cf: CompanyFacts, expected_cik: str | None, ticker: str) -> None:
    if expected_cik and _digits(expected_cik) != cf.cik:
        raise Invalid(
            f"{cf.source_name} is for CIK {cf.cik} ({cf.entity_name or 'unnamed'}), but {ticker} is "
            f"registered with CIK {_digits(expected_cik)}; nothing was stored."
        )


def _parse_row(row, taxonomy: str, concept: str, unit: str, source_name: str) -> Fact:
    try:
        start = date.fromisoformat(row["start"]) if row.get("start") else None
        return Fact(
            taxonomy=taxonomy, concept=concept, unit=unit, start=start, end=date.fromisoformat(row["end"]),
            val=float(row["val"]), accn=str(row["accn"]), form=str(row["form"]),
            filed=date.fromisoformat(row["filed"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise Invalid(
            f"{source_name}: a {taxonomy}:{concept} fact in {unit} is malformed ({type(err).__name__}: {err}); "
            "each fact needs end, val, accn, form and filed."
        ) from None


def annual_values(
    cf: CompanyFacts, taxonomy: str, concept: str, *, units: set[str] | None, fye: FiscalYearEnd, instant: bool,
) -> dict[int, Fact]:
    """Fiscal year -> the latest-filed annual value of one concept.

    Flows must span about one year; balances must be instants at a fiscal year end.
    When a period is reported again (a later 10-K's comparatives, a 10-K/A, a
    restatement) the most recently filed value wins.
    """
    body = cf.taxonomy(taxonomy).get(concept)
    if not isinstance(body, dict) or not isinstance(body.get("units"), dict):
        return {}
    chosen: dict[int, Fact] = {}
    for unit, rows in body["units"].items():
        if units is not None and unit not in units:
            continue
        if not isinstance(rows, list):
            raise Invalid(f"{cf.source_name}: units['{unit}'] of {taxonomy}:{concept} is not a list of facts.")
        for row in rows:
            if not isinstance(row, dict) or row.get("form") not in ANNUAL_FORMS:
                continue
            fact = _parse_row(row, taxonomy, concept, unit, cf.source_name)
            if instant != (fact.start is None):
                continue
            if fact.start is not None and not is_annual_duration(fact.start, fact.end):
                continue
            year = fiscal_year_for(fact.end, fye)
            if year is None:
                continue
            held = chosen.get(year)
            if held is None or (fact.filed, fact.accn) > (held.filed, held.accn):
                chosen[year] = fact
    return chosen


def annual_flow_ends(cf: CompanyFacts, taxonomy: str, concepts: tuple[str, ...]) -> list:
    """End dates of one-year periods in annual filings, for inferring a fiscal year end."""
    ends = []
    for concept in concepts:
        body = cf.taxonomy(taxonomy).get(concept)
        if not isinstance(body, dict):
            continue
        for rows in (body.get("units") or {}).values():
            for row in rows if isinstance(rows, list) else ():
                if isinstance(row, dict) and row.get("form") in ANNUAL_FORMS and row.get("start"):
                    try:
                        start, end = date.fromisoformat(row["start"]), date.fromisoformat(row["end"])
                    except (KeyError, TypeError, ValueError):
                        continue
                    if is_annual_duration(start, end):
                        ends.append(end)
    return ends
