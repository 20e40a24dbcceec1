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


def _large_sheet(tmp_path, rows: int = 12_000):
    """A multi-megabyte sheet of every kind of cell, and the values it must read back as."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Big")
    expected: dict[tuple[int, int], object] = {}
    formulas, errors = set(), {}
    for r in range(rows):
        row = r + 1
        ws.write_number(r, 0, r * 1.25)
        ws.write_string(r, 1, f"label {r % 97} & <co>")
        ws.write_formula(r, 2, f"=A{row}*2", None, r * 2.5)
        ws.write_boolean(r, 3, r % 2 == 0)
        expected.update({(row, 1): r * 1.25, (row, 2): f"label {r % 97} & <co>", (row, 3): r * 2.5,
                         (row, 4): r % 2 == 0})
        formulas.add((row, 3))
        if r % 1000 == 0:
            ws.write_formula(r, 4, f"=1/0+A{row}", None, "#DIV/0!")
            expected[(row, 5)] = errors[(row, 5)] = "#DIV/0!"
            formulas.add((row, 5))
    wb.close()
    rich = (b'<c r="A99999" t="inlineStr"><is><r><rPr><color rgb="FF0000"/><charset val="1"/></rPr>'
            b"<t>rich &amp; red</t></r><r><t> text</t></r></is></c>")

    def add_rich_row(body: bytes) -> bytes:
        return body.replace(b"</sheetData>", b'<row r="99999">' + rich + b"</row></sheetData>")

    expected[(99999, 1)] = "rich & red text"
    path = tmp_path / "big.xlsx"
    path.write_bytes(_with_sheet_xml(buf.getvalue(), "xl/worksheets/sheet1.xml", add_rich_row))
    return path, expected, formulas, errors


@pytest.mark.timeout(60)
def test_large_well_formed_sheet_reads_every_value(tmp_path):
    path, expected, formulas, errors = _large_sheet(tmp_path)
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size > 1 << 20  # several chunks
    sheet = read_workbook(path).sheets["Big"]
    assert sheet.values == expected
    assert sheet.formula_cells == formulas and sheet.error_cells == errors and sheet.missing_values == []
    assert (sheet.max_row, sheet.max_col) == (99999, 5)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_chunk_boundaries_change_nothing(tmp_path, monkeypatch, chunk):
    # Every byte position a chunk can end at, on cells of every shape (shared formulas,
    # inline rich text with <color>, errors, booleans, strings).
    from core.validation import workbook as wb_module

    path = tmp_path / "m.xlsx"
    path.write_bytes(templates.build_model("a2_wc_debt", company_ticker="KO", rng=random.Random(4)))
    big, _, _, _ = _large_sheet(tmp_path, rows=300 if chunk < 10 else 3000)
    for source in (path, big):
        whole = read_workbook(source, keep_formulas=True)
        monkeypatch.setattr(wb_module, "CHUNK", chunk)
        pieces = read_workbook(source, keep_formulas=True)
        monkeypatch.setattr(wb_module, "CHUNK", 1 << 20)
        for name, sheet in whole.sheets.items():
            other = pieces.sheets[name]
            assert (other.values, other.formula_cells, other.error_cells, other.formulas, other.missing_values,
                    other.max_row, other.max_col) == (sheet.values, sheet.formula_cells, sheet.error_cells,
                                                      sheet.formulas, sheet.missing_values, sheet.max_row,
                                                      sheet.max_col), name


def test_rich_text_font_family_is_not_a_formula(tmp_path):
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet("Notes").write_number("A1", 1)
    wb.close()
    rich = (b'<row r="2"><c r="A2" t="inlineStr"><is><r><rPr><rFont val="Calibri"/><family val="2"/></rPr>'
            b"<t>Revenue</t></r></is></c></row>")
    path = tmp_path / "rich.xlsx"
    path.write_bytes(_with_sheet_xml(buf.getvalue(), "xl/worksheets/sheet1.xml",
                                     lambda body: body.replace(b"</sheetData>", rich + b"</sheetData>")))
    sheet = read_workbook(path, keep_formulas=True).sheets["Notes"]
    assert sheet.value(2, 1) == "Revenue" and not sheet.is_formula(2, 1)


def test_shared_formula_without_an_index_reads_as_plain(tmp_path):
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.add_worksheet("Calc").write_formula("B1", "=A1*2", None, 2)
    wb.close()
    path = tmp_path / "nosi.xlsx"
    path.write_bytes(_with_sheet_xml(buf.getvalue(), "xl/worksheets/sheet1.xml",
                                     lambda body: body.replace(b"<f>A1*2</f>", b'<f t="shared">A1*2</f>')))
    sheet = read_workbook(path, keep_formulas=True).sheets["Calc"]
    assert sheet.formula(1, 2) == "=A1*2" and sheet.value(1, 2) == 2.0
