"""The validator engine on generated models: correct ones pass, each typical mistake
fails exactly its check at the right sheet, cell and period, and renamed sheets or
inserted rows do not confuse it."""

from __future__ import annotations

import random

import pytest

from core.validation import templates, validate_path

ACTIVITIES = ["a1_drivers_map", "a2_wc_debt", "capstone"]

# flaw -> (sheet, cell, period) of the first finding, for the standard layout and TSLA
# (no take-rate row): labels in column A, FY2022..FY2029E in columns B..I.
WHERE = {
    "error_value": ("Revenue Drivers", "B7", "FY2022"),
    "unbalanced": ("Balance Sheet", "G9", "FY2027E"),
    "cash_mismatch": ("Cash Flow", "F17", "FY2026E"),
    "net_income_mismatch": ("Cash Flow", "F4", "FY2026E"),
    "hardcoded_forecast": ("Income Statement", "F7", "FY2026E"),
    "revenue_mismatch": ("Revenue Drivers", "F6", "FY2026E"),
    "missing_price_target": ("Valuation", "B20", None),
}


def _write(tmp_path, data: bytes, name="model.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _statuses(report):
    return {c.id: c.status for c in report.checks}


@pytest.mark.parametrize("activity", ACTIVITIES)
def test_correct_model_passes_every_check(tmp_path, activity):
    data = templates.build_model(activity, company_ticker="TSLA", rng=random.Random(11))
    report = validate_path(_write(tmp_path, data), activity_id=activity)
    assert report.status == "passed", report.to_dict()
    assert set(_statuses(report).values()) == {"passed"}
    if activity == "capstone":
        assert set(report.outputs) == {"dcf_price_target", "comps_price_target", "final_price_target"}
        assert all(v > 0 for v in report.outputs.values())


@pytest.mark.parametrize("activity,flaw", [(a, f) for a in ACTIVITIES for f in templates.flaws_for(a)])
def test_each_flaw_fails_only_its_check_at_the_right_cell(tmp_path, activity, flaw):
    data = templates.build_model(activity, company_ticker="TSLA", rng=random.Random(11), flaw=flaw)
    report = validate_path(_write(tmp_path, data), activity_id=activity)
    broken = templates.FLAWS[flaw]
    statuses = _statuses(report)
    assert report.status == "failed"
    assert statuses[broken] == "failed"
    others = {k: v for k, v in statuses.items() if k != broken}
    # A missing sheet makes the checks that need it unable to run: skipped, not failed.
    assert set(others.values()) <= ({"passed", "skipped"} if flaw == "missing_sheet" else {"passed"}), statuses
    finding = report.check(broken).findings[0]
    if flaw == "missing_sheet":
        assert finding.expected == templates.STANDARD_NAMES[
            {"a1_drivers_map": "drivers", "a2_wc_debt": "cash", "capstone": "valuation"}[activity]]
        assert "has no" in finding.message
    else:
        assert (finding.sheet, finding.cell, finding.period) == WHERE[flaw]
        assert finding.message and finding.cell in finding.message


@pytest.mark.parametrize("activity", ACTIVITIES)
def test_aliased_sheet_names_and_inserted_rows_still_validate(tmp_path, activity):
    data = templates.build_model(activity, company_ticker="UBER", rng=random.Random(4), style="aliased")
    report = validate_path(_write(tmp_path, data), activity_id=activity)
    assert report.status == "passed", report.to_dict()
    assert {"IS", "BS", "CF"} <= set(report.details["sheets"]) or activity == "a1_drivers_map"


def test_aliased_layout_reports_its_own_labels(tmp_path):
    data = templates.build_model("a2_wc_debt", company_ticker="UBER", rng=random.Random(4), style="aliased",
                                 flaw="cash_mismatch")
    report = validate_path(_write(tmp_path, data), activity_id="a2_wc_debt")
    finding = report.check("cash_ties").findings[0]
    assert finding.sheet == "CF" and finding.period == "2026E"
    # Labels sit in column B and periods start in column C in this layout.
    assert finding.cell.startswith("G")


@pytest.mark.parametrize("activity", ACTIVITIES)
def test_empty_template_fails_with_findings_not_an_error(tmp_path, activity):
    report = validate_path(_write(tmp_path, templates.build_template(activity)), activity_id=activity)
    assert report.status == "failed"
    assert _statuses(report)["required_sheets"] == "passed"
    failed = [c for c in report.checks if c.status == "failed"]
    assert failed and all(c.findings for c in failed)


def test_unbalanced_sheet_lists_every_period_from_the_break(tmp_path):
    data = templates.build_model("a2_wc_debt", company_ticker="KO", rng=random.Random(2), flaw="unbalanced")
    findings = validate_path(_write(tmp_path, data), activity_id="a2_wc_debt").check("bs_balances").findings
    assert [f.period for f in findings] == ["FY2027E", "FY2028E", "FY2029E"]
    assert all(abs(f.expected - f.actual) > 0.5 for f in findings)


def test_revenue_build_accepts_volumes_in_thousands(tmp_path):
    # The generated drivers are in thousands of units and dollars; revenue is in millions.
    data = templates.build_model("a1_drivers_map", company_ticker="ABNB", rng=random.Random(9))
    report = validate_path(_write(tmp_path, data), activity_id="a1_drivers_map")
    assert report.check("revenue_build").status == "passed"


def test_unknown_activity_is_refused(tmp_path):
    from core.errors import Invalid

    data = templates.build_model("a1_drivers_map", company_ticker="KO", rng=random.Random(1))
    with pytest.raises(Invalid, match="Unknown activity"):
        validate_path(_write(tmp_path, data), activity_id="nope")
