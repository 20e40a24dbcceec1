"""The package workbook: sheets, labels, values, formulas, comments, presentation."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from core.package_workbook import SHEETS, PackageInfo, driver_labels, write_workbook
from core.sec import build_statements, load_companyfacts, validate
from tests.sec_support import FIXTURES, SNOW_FILE, shared_file


def info(**kw):
    base = dict(ticker="RSTD", company_name="Fixture Restated Corp", fiscal_year_end="December 31",
                revenue_model_type="QxP", revenue_driver_notes="Q=Units shipped, P=Average price", version=3,
                built_at=datetime(2025, 1, 2, tzinfo=UTC))
    base.update(kw)
    return PackageInfo(**base)


def workbook(name="restated", fye="December 31", **kw):
    st = build_statements(load_companyfacts(FIXTURES / f"{name}.json"), ticker="T", fiscal_year_end=fye)
    return load_workbook(io.BytesIO(write_workbook(st, info(**kw), validate(st)))), st


def rows(ws):
    return {row[0].value: row for row in ws.iter_rows(min_row=5) if row[0].value}


def test_sheets_and_year_headers_oldest_to_newest():
    wb, _ = workbook()
    assert wb.sheetnames == list(SHEETS)
    ws = wb["Income Statement"]
    assert [c.value for c in ws[4]] == ["Line", "FY2022", "FY2023"]
    assert ws.freeze_panes == "B5"
    assert wb.calculation.fullCalcOnLoad is True


def test_stated_figures_are_blue_values_in_millions():
    wb, _ = workbook()
    ws = wb["Income Statement"]
    revenue = rows(ws)["Revenue"]
    assert [revenue[1].value, revenue[2].value] == [1010.0, 1200.0]
    assert revenue[1].font.color.rgb.endswith("0000FF")
    assert revenue[1].number_format.startswith("#,##0.0")
    for label in ("Total Assets", "Total Liabilities and Equity", "Cash and Cash Equivalents"):
        assert label in rows(wb["Balance Sheet"])
    assert "Ending Cash" in rows(wb["Cash Flow"]) and "Net Income" in rows(ws)


def test_unstated_subtotal_is_a_formula_and_missing_figure_an_empty_commented_cell():
    wb, _ = workbook()
    r = rows(wb["Income Statement"])
    gross = r["Gross profit"][2].value
    assert gross.startswith("=") and "-" in gross
    opex = r["Operating expenses"][2]
    assert opex.value.startswith("=")

def test_a_line_the_filer_never_reports_is_one_not_reported_cell_not_a_row_of_empty_cells():
    wb, _ = workbook("eur_ifrs")
    for sheet in ("Income Statement", "Balance Sheet", "Cash Flow"):
        for row in wb[sheet].iter_rows(min_row=5):
            if row[0].value:
                assert any(c.value is not None for c in row[1:]), f"{sheet}: {row[0].value} is a row of empty cells"
    cost = rows(wb["Income Statement"])["Cost of revenue"]
    assert cost[1].value == "not reported" and all(c.value is None for c in cost[2:])
    sources = [r for r in wb["Sources"].iter_rows(min_row=4, values_only=True) if r[1] == "Cost of revenue"]
    assert len(sources) == 1 and sources[0][6].startswith("not reported")


def test_cover_names_company_version_currency_and_sources():
    wb, _ = workbook("eur_ifrs", version=7, source_file="CIK0000900008.json")
    cover = {r[0].value: r[1].value for r in wb["Cover"].iter_rows(min_row=3) if r[0].value}
    assert cover["Version"] == 7 and cover["Reporting currency"] == "EUR"
    assert cover["Built from"] == "CIK0000900008.json"
    assert cover["Note"] == "Figures in EUR millions unless stated."
    assert "20-F 0000900008-24-000002" in cover["Sources"]
    assert str(cover["Data as of"]).startswith("2023-12-31")


def test_sources_list_concept_accession_and_a_link():
    wb, _ = workbook()
    ws = wb["Sources"]
    revenue = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[1] == "Revenue" and r[2] == "FY2022")
    assert revenue[6] == "Revenues" and revenue[8] == "0000900001-24-000012"
    link_cell = next(r for r in ws.iter_rows(min_row=4) if r[1].value == "Revenue")[11]
    assert link_cell.hyperlink.target.endswith("/000090000124000012/0000900001-24-000012-index.htm")


def test_checks_sheet_has_balance_and_cash_formulas_per_year():
    wb, _ = workbook()
    ws = wb["Checks"]
    labels = [r[0].value for r in ws.iter_rows(min_row=5)]
    assert "Balance: assets = liabilities + equity" in labels
    status = [r for r in ws.iter_rows(min_row=5) if r[0].value == "Status"]
    assert len(status) == 3 and all(c.value.startswith("=IF(") for c in status[0][1:3])
    assert "Roll-forward: previous ending cash + net change in cash = ending cash" in labels
    previous = next(r for r in ws.iter_rows(min_row=5) if r[0].value == "Previous ending cash + net change in cash")
    ending_row = rows(wb["Cash Flow"])["Ending Cash"][0].row
    change_row = rows(wb["Cash Flow"])["Net change in cash"][0].row
    assert previous[1].value is None and previous[2].value == f"='Cash Flow'!B{ending_row}+'Cash Flow'!C{change_row}"
    cash_terms = next(r for r in ws.iter_rows(min_row=5) if (r[0].value or "").startswith("Cash and equivalents"))
    assert "+" in cash_terms[1].value  # restricted cash added where ending cash includes it


def test_failed_validation_is_listed_on_the_checks_sheet():
    wb, _ = workbook("unbalanced")
    texts = [r[0].value for r in wb["Checks"].iter_rows(min_row=5)]
    assert any(t and t.startswith("FY2023: Total Assets 600.0") for t in texts)


def test_revenue_drivers_link_history_and_style_inputs():
    wb, _ = workbook()
    ws = wb["Revenue Drivers"]
    assert [c.value for c in ws[4]][-3:] == ["FY2024E", "FY2025E", "FY2026E"]
    r = rows(ws)
    assert r["Reported revenue (linked to the Income Statement)"][1].value == "='Income Statement'!B5"
    q = r["Q: Units shipped"][1]
    assert q.font.color.rgb.endswith("0000FF") and q.fill.fgColor.rgb.endswith("FFF2CC")
    assert "P: Average price" in r


@pytest.mark.parametrize("model, notes, factors, extras", [
    ("QxP", "Q=Deliveries by model, P=ASP by model", ["Q: Deliveries by model", "P: ASP by model"], []),
    ("QxPxT", "Nights × ADR × Take-rate", ["Q: Nights", "P: ADR", "T: Take-rate"], []),
    ("QxP+Membership", "Q=Transactions, P=Avg ticket, + membership renewals",
     ["Q: Transactions", "P: Avg ticket"], ["Membership revenue"]),
    (None, None, ["Volume (Q)", "Price per unit (P)"], []),
])
def test_driver_labels_follow_the_revenue_model(model, notes, factors, extras):
    assert driver_labels(model, notes) == (factors, extras)


def test_real_january_filer_workbook_headers_and_values():
    st = build_statements(load_companyfacts(shared_file(SNOW_FILE)), ticker="SNOW", fiscal_year_end="January 31")
    wb = load_workbook(io.BytesIO(write_workbook(st, info(ticker="SNOW", company_name="Snowflake"), validate(st))))
    ws = wb["Balance Sheet"]
    assert [c.value for c in ws[4]] == ["Line", "FY2021", "FY2022", "FY2023", "FY2024", "FY2025"]
    assert rows(ws)["Total Assets"][5].value == 9033.938


@pytest.mark.libreoffice
def test_checks_show_ok_and_check_when_a_spreadsheet_recalculates(tmp_path):
    """LibreOffice recalculates on load like Excel: balanced years say OK, the
    unbalanced year says CHECK, and formula subtotals get their values."""
    import shutil
    import subprocess

    from core import config

    soffice = config.env("NGI_LIBREOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        from tests.support import unavailable

        unavailable("LibreOffice (soffice) is not installed")
    for name in ("restated", "unbalanced"):
        st = build_statements(load_companyfacts(FIXTURES / f"{name}.json"), ticker="T", fiscal_year_end="December 31")
        (tmp_path / f"{name}.xlsx").write_bytes(write_workbook(st, info(), validate(st)))
    out = tmp_path / "out"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--calc",
                    "--convert-to", "xlsx", "--outdir", str(out), str(tmp_path / "restated.xlsx"),
                    str(tmp_path / "unbalanced.xlsx")], check=True, capture_output=True, timeout=180)

    def statuses(name):
        ws = load_workbook(out / f"{name}.xlsx", data_only=True)["Checks"]
        return [[c.value for c in r[1:3]] for r in ws.iter_rows(min_row=5) if r[0].value == "Status"]

    assert statuses("restated") == [["OK", "OK"], ["OK", "OK"], ["n/a", "OK"]]
    assert statuses("unbalanced")[0] == ["OK", "CHECK"]
    gross = rows(load_workbook(out / "restated.xlsx", data_only=True)["Income Statement"])["Gross profit"]
    assert gross[2].value == pytest.approx(480.0)


def test_cover_shows_the_fiscal_year_end_rule_and_the_period_ends():
    wb, _ = workbook("week52", fye="Sunday nearest August 31", fiscal_year_end=None)
    cover = {r[0].value: r[1].value for r in wb["Cover"].iter_rows(min_row=3) if r[0].value}
    assert cover["Fiscal year end"] == "Sunday nearest August 31"
    assert cover["Period ends"] == "FY2022: 2022-08-28, FY2023: 2023-09-03, FY2024: 2024-09-01"
