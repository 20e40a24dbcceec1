"""Unsafe or unreadable files are rejected before parsing, with a message naming the file."""

from __future__ import annotations

import io
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
