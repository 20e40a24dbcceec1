"""Unsafe or unreadable files are rejected before parsing, with a message naming the file."""

from __future__ import annotations

import io
import json
import random
import zipfile
import zlib

import pytest

from core.validation import read_pdf, templates, validate_path
from core.validation import workbook as wb_module
from core.validation.safety import Rejected

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>&lol4;</t></si></sst>
"""


def _model() -> bytes:
    return templates.build_model("a1_drivers_map", company_ticker="KO", rng=random.Random(3))


def _rewrite(data: bytes, *, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info)))
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def _reject(tmp_path, data: bytes, name="upload.xlsx") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    report = validate_path(path, activity_id="a1_drivers_map")
    assert report.status == "rejected", report.to_dict()
    assert name in report.message
    return report.message


def test_pdf_renamed_xlsx(tmp_path):
    assert "is a PDF" in _reject(tmp_path, templates.build_memo_pdf(["hello"]))


def test_empty_file(tmp_path):
    assert "empty" in _reject(tmp_path, b"")


def test_not_a_zip(tmp_path):
    assert "not an Excel" in _reject(tmp_path, b"Name,Revenue\nTSLA,1\n")


def test_zip_bomb_by_ratio(tmp_path):
    data = _rewrite(_model(), add={"xl/media/padding.bin": b"\0" * (20 * 1024 * 1024)})
    assert "zip bomb" in _reject(tmp_path, data)


def test_zip_bomb_by_total_size(tmp_path):
    # Many members just under the ratio rule that together pass 100 MB.
    chunk = random.Random(1).randbytes(64 * 1024) * 16  # 1 MiB, compresses about 16:1
    data = _rewrite(_model(), add={f"xl/media/part{i}.bin": chunk for i in range(105)})
    assert "100 MB" in _reject(tmp_path, data)


def test_billion_laughs_in_shared_strings(tmp_path):
    data = _rewrite(_model(), replace={"xl/sharedStrings.xml": BILLION_LAUGHS})
    assert "entities" in _reject(tmp_path, data)


def test_entity_declaration_hidden_after_a_long_comment_is_still_refused(tmp_path):
    # Past the fast byte check: defusedxml itself must refuse to expand it.
    sneaky = BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!--' + b"x" * 4096 + b"-->")
    data = _rewrite(_model(), replace={"xl/sharedStrings.xml": sneaky})
    path = tmp_path / "sneaky.xlsx"
    path.write_bytes(data)
    archive = zipfile.ZipFile(path)
    with pytest.raises(Rejected, match="entities"):
        wb_module._shared_strings(archive, "sneaky.xlsx")


def test_xlsm_renamed_xlsx_with_vba_project(tmp_path):
    data = _rewrite(_model(), add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 fake vba"})
    assert "macro" in _reject(tmp_path, data)


def test_macro_content_type_without_vba_part(tmp_path):
    src = zipfile.ZipFile(io.BytesIO(_model()))
    types = src.read("[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    assert "macro" in _reject(tmp_path, _rewrite(_model(), replace={"[Content_Types].xml": types}))


def test_damaged_zip(tmp_path):
    data = _model()
    assert "damaged" in _reject(tmp_path, data[:200] + b"\0" * 300)


def test_compressed_sizes_are_what_the_ratio_rule_reads():
    # Sanity of the fixture itself: 20 MB of zeros really compresses past 100:1.
    assert len(zlib.compress(b"\0" * (20 * 1024 * 1024))) * 100 < 20 * 1024 * 1024


def test_pdf_readable_counts_pages_and_extracts_text(tmp_path):
    path = tmp_path / "memo.pdf"
    path.write_bytes(templates.build_memo_pdf(["Our price target is $310, a BUY."] * 60))
    report, text = read_pdf(path)
    assert report.status == "passed"
    assert report.details["pages"] >= 2
    assert "price target is $310" in text


def test_encrypted_pdf_is_rejected(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(templates.build_memo_pdf(["secret memo"]))).pages:
        writer.add_page(page)
    writer.encrypt("pw")
    buf = io.BytesIO()
    writer.write(buf)
    path = tmp_path / "locked.pdf"
    path.write_bytes(buf.getvalue())
    report = validate_path(path, activity_id="capstone")
    assert report.status == "rejected" and "password" in report.message


def test_malformed_pdf_is_rejected(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    report = validate_path(path, activity_id="capstone")
    assert report.status == "rejected" and "broken.pdf" in report.message


# Sheet XML that is hostile to the reader rather than to the zip: each of these kept the
# old cell pattern busy for minutes or slipped past it, so each runs under a timeout.

SHEET1 = "xl/worksheets/sheet1.xml"  # 'Revenue Drivers' in the a1 model


def _sheet_xml() -> bytes:
    return zipfile.ZipFile(io.BytesIO(_model())).read(SHEET1)


@pytest.mark.timeout(20)
def test_unclosed_cells_are_rejected_as_malformed_naming_sheet_and_position(tmp_path, capsys, monkeypatch):
    # The file: 1 MiB of an unclosed cell, a few KB zipped.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")  # validate needs no database
    from core.cli import main

    path = tmp_path / "hostile.xlsx"
    path.write_bytes(_rewrite(_model(), replace={SHEET1: b'<c r="A1">1' * ((1 << 20) // 11)}))
    assert path.stat().st_size < 10_000
    code = main(["validate", str(path), "--activity", "a1_drivers_map", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 2 and data["status"] == "rejected"
    assert "hostile.xlsx" in data["message"] and "'Revenue Drivers'" in data["message"]
    assert "not well-formed XML" in data["message"] and "line 1, column" in data["message"]


@pytest.mark.timeout(20)
def test_truncated_sheet_is_rejected(tmp_path):
    xml = _sheet_xml()
    message = _reject(tmp_path, _rewrite(_model(), replace={SHEET1: xml[: len(xml) * 2 // 3]}))
    assert "'Revenue Drivers'" in message and "not well-formed XML" in message


@pytest.mark.timeout(20)
def test_mismatched_tags_are_rejected_with_their_line(tmp_path):
    xml = _sheet_xml().replace(b"</row>", b"</row>\n", 3).replace(b"</c></row>\n", b"</row>\n", 1)
    message = _reject(tmp_path, _rewrite(_model(), replace={SHEET1: xml}))
    assert "'Revenue Drivers'" in message and "mismatched tag at line 2" in message


@pytest.mark.timeout(20)
def test_doctype_deep_inside_a_sheet_is_refused(tmp_path):
    # Past the 2 KB head the zip check reads: the sheet reader's own parser must refuse it.
    xml = _sheet_xml()
    declaration = xml.index(b"?>") + 2
    sneaky = (xml[:declaration] + b"<!--" + b"x" * 4096 + b'--><!DOCTYPE worksheet [<!ENTITY big "big">]>'
              + xml[declaration:])
    message = _reject(tmp_path, _rewrite(_model(), replace={SHEET1: sneaky}))
    assert "'Revenue Drivers'" in message and "entities" in message


@pytest.mark.timeout(20)
def test_absurdly_deep_nesting_is_refused(tmp_path):
    body = b"<worksheet>" + b"<a>" * 300_000  # past MAX_DEPTH, short of any zip-bomb rule
    message = _reject(tmp_path, _rewrite(_model(), replace={SHEET1: body}))
    assert "'Revenue Drivers'" in message and "deep" in message


@pytest.mark.timeout(20)
def test_a_cell_larger_than_excel_allows_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(wb_module, "CHUNK", 4096)
    monkeypatch.setattr(wb_module, "MAX_CELL_BYTES", 64 * 1024)
    huge = b'<c r="A1" t="inlineStr"><is><t>' + random.Random(2).randbytes(60_000).hex().encode() + b"</t></is></c>"
    xml = _sheet_xml().replace(b"<sheetData>", b'<sheetData><row r="999">' + huge + b"</row>", 1)
    message = _reject(tmp_path, _rewrite(_model(), replace={SHEET1: xml}))
    assert "'Revenue Drivers'" in message and "no Excel cell is that large" in message


@pytest.mark.timeout(20)
def test_cpu_budget_exhausted_is_a_rejection_naming_the_sheet(tmp_path, monkeypatch):
    monkeypatch.setenv("NGI_VALIDATION_CPU_SECONDS", "0.000001")
    message = _reject(tmp_path, _model())
    assert "'Revenue Drivers'" in message and "NGI_VALIDATION_CPU_SECONDS" in message


def test_default_cpu_budget_leaves_a_real_model_alone(tmp_path):
    path = tmp_path / "model.xlsx"
    path.write_bytes(_model())
    assert validate_path(path, activity_id="a1_drivers_map").status == "passed"


@pytest.mark.timeout(20)
def test_a_cell_of_empty_text_runs_does_not_stall_the_reader(tmp_path):
    # Well-formed, under the cell limit, and quadratic for a text pattern that scans on to a
    # '</t>' that never comes.
    runs = b"".join(b'<t n="%d"/>' % i for i in range(150_000))
    cell = b'<c r="A999" t="inlineStr"><is><t>end</t>' + runs + b"</is></c>"
    xml = _sheet_xml().replace(b"<sheetData>", b'<sheetData><row r="999">' + cell + b"</row>", 1)
    path = tmp_path / "runs.xlsx"
    path.write_bytes(_rewrite(_model(), replace={SHEET1: xml}))
    assert wb_module.read_workbook(path).sheets["Revenue Drivers"].value(999, 1) == "end"


# -- PDF content rules (issue 13): a blank or near-empty memo must not pass ---------------

def _memo_rules():
    from core import catalogue

    return catalogue.activity_rules("capstone").pdf_rules("pdf_memo")


def test_a_blank_one_page_pdf_is_rejected_as_having_no_readable_text(tmp_path):
    path = tmp_path / "memo.pdf"
    path.write_bytes(templates.build_memo_pdf([], title=""))
    report, text = read_pdf(path, rules=_memo_rules())
    assert report.status == "rejected" and "has no readable text" in report.message and text == ""


def test_a_near_empty_memo_fails_each_content_check_by_id(tmp_path):
    path = tmp_path / "memo.pdf"
    path.write_bytes(templates.build_memo_pdf(["I went through the numbers and I like the company a lot."]))
    report, _ = read_pdf(path, rules=_memo_rules())
    failed = {c.id: c for c in report.checks if c.status == "failed"}
    assert report.status == "failed"
    assert set(failed) == {"pdf_word_count", "pdf_sections", "pdf_price_target"}
    missing = {f.expected for f in failed["pdf_sections"].findings}
    assert missing == {"thesis", "valuation", "risks", "recommendation"}
    assert "at least 300" in failed["pdf_word_count"].findings[0].message


def test_a_complete_memo_passes_and_its_price_target_is_found(tmp_path):
    path = tmp_path / "memo.pdf"
    path.write_bytes(templates.build_memo_pdf(templates.memo_paragraphs("Tesla", price_target=182.5)))
    report, _ = read_pdf(path, rules=_memo_rules())
    assert report.status == "passed", report.to_dict()
    assert "182.50" in report.check("pdf_price_target").note
