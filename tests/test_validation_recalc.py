"""Workbooks saved without calculated values: recalculated by LibreOffice when it is
installed, otherwise rejected with the cells that lack values — never called balanced."""

from __future__ import annotations

import random

from core.validation import recalc, templates, validate_path
from tests.support import unavailable


def _stripped(tmp_path, flaw=None):
    data = templates.build_model("a2_wc_debt", company_ticker="DE", rng=random.Random(8), flaw=flaw)
    path = tmp_path / "no_values.xlsx"
    path.write_bytes(templates.strip_cached_values(data))
    return path


def test_libreoffice_recalculates_formulas_without_saved_values(tmp_path):
    if recalc.soffice_path() is None:
        unavailable("LibreOffice (soffice) is not installed")
    report = validate_path(_stripped(tmp_path), activity_id="a2_wc_debt")
    assert report.status == "passed", report.to_dict()
    assert "LibreOffice recalculated" in report.details["recalculated"]


def test_recalculated_values_still_catch_a_broken_tie(tmp_path):
    if recalc.soffice_path() is None:
        unavailable("LibreOffice (soffice) is not installed")
    report = validate_path(_stripped(tmp_path, flaw="cash_mismatch"), activity_id="a2_wc_debt")
    assert report.status == "failed"
    assert report.check("cash_ties").findings[0].cell == "F17"


def test_without_libreoffice_the_report_names_the_cells_and_never_passes(tmp_path, monkeypatch):
    monkeypatch.setenv("NGI_LIBREOFFICE", str(tmp_path / "no-such-soffice"))
    report = validate_path(_stripped(tmp_path), activity_id="a2_wc_debt")
    assert report.status == "rejected"
    assert "have no saved values" in report.message and "'Revenue Drivers'!B6" in report.message
    assert "not installed" in report.message
