"""The streaming workbook reader and the locating rules, on hand-made XML."""

from __future__ import annotations

import io
import random
import zipfile

import pytest

from core.validation import locate, read_workbook, templates


@pytest.mark.parametrize("raw,expected", [
    (2024.0, (2024, None)), ("FY2024", (2024, None)), ("2025E", (2025, "e")), ("FY2026F", (2026, "f")),
    ("FY24A", (2024, "a")), ("FY'27E", (2027, "e")), ("24", None), (12.5, None), ("Revenue", None), (True, None),
])
def test_year_labels(raw, expected):
    assert locate.parse_year(raw) == expected


@pytest.mark.parametrize("label,key", [
    ("Total Liabilities & Shareholders’ Equity", "total_le"), ("TOTAL LIABILITIES AND STOCKHOLDERS' EQUITY:", "total_le"),
    ("Net income (loss)", "net_income"), ("Cash & cash equivalents", "cash"), ("Cash at End of Period", "ending_cash"),
    ("Final Price Target", "final_price_target"),
])
def test_line_aliases(label, key):
    assert locate.normalize(label) in locate.LINE_ALIASES[key]


def test_sheet_aliases_are_case_insensitive():
    assert locate.normalize("p&l") in locate.SHEET_ALIASES["income"]
    assert locate.normalize("Cash Flow Statement") in locate.SHEET_ALIASES["cash"]


def _with_sheet_xml(data: bytes, sheet_part: str, transform) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info.filename, transform(body) if info.filename == sheet_part else body)
    return out.getvalue()


def test_shared_formulas_inline_strings_and_missing_values(tmp_path):
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Calc")
    ws.write_number("A1", 1)
    ws.write_formula("B1", "=A1*2", None, 2)
    ws.write_formula("B2", "=A2*2", None, 0)
    ws.write_formula("B3", "=A3*2", None, 0)
    wb.close()

    def shared(body: bytes) -> bytes:
        body = body.replace(b"<f>A1*2</f>", b'<f t="shared" ref="B1:B3" si="0">A1*2</f>')
        body = body.replace(b"<f>A2*2</f>", b'<f t="shared" si="0"/>')
        body = body.replace(b"<f>A3*2</f><v>0</v>", b'<f t="shared" si="0"/>')
        return body.replace(b"</sheetData>", b'<row r="9"><c r="A9" t="inlineStr"><is><t>note &amp; text</t></is></c>'
                                              b"</row></sheetData>")

    path = tmp_path / "shared.xlsx"
    path.write_bytes(_with_sheet_xml(buf.getvalue(), "xl/worksheets/sheet1.xml", shared))
    sheet = read_workbook(path, keep_formulas=True).sheets["Calc"]
    assert sheet.formula(1, 2) == "=A1*2" and sheet.formula(2, 2) == "=A2*2" and sheet.formula(3, 2) == "=A3*2"
    assert sheet.is_formula(3, 2) and sheet.missing_values == [(3, 2)]
    assert sheet.value(9, 1) == "note & text"


def test_formulas_are_not_kept_unless_asked(tmp_path):
    path = tmp_path / "m.xlsx"
    path.write_bytes(templates.build_model("a1_drivers_map", company_ticker="KO", rng=random.Random(1)))
    fast = read_workbook(path).sheets["Revenue Drivers"]
    full = read_workbook(path, keep_formulas=True).sheets["Revenue Drivers"]
    assert fast.formula_cells == full.formula_cells and fast.formulas == {}
    assert full.formula(6, 2) == "=B4*B5/1000"


def test_forecast_banner_marks_unsuffixed_years(tmp_path):
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Income Statement")
    ws.write_string("B1", "Historical")
    ws.write_string("D1", "Forecast")
    for i, year in enumerate([2023, 2024, 2025, 2026]):
        ws.write_number(1, 1 + i, year)
    ws.write_string("A3", "Net Income")
    wb.close()
    path = tmp_path / "banner.xlsx"
    path.write_bytes(buf.getvalue())
    lay = locate.layout(read_workbook(path).sheets["Income Statement"])
    assert [(p.label, p.forecast) for p in lay.periods] == [("2023", False), ("2024", False), ("2025", True),
                                                            ("2026", True)]
