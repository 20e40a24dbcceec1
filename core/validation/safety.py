"""Safety checks that run before any parser touches an uploaded workbook.

Everything here reads only the zip's central directory and the first bytes of each XML
member, so a hostile file is refused quickly and with bounded memory, before openpyxl,
the XML scanner or LibreOffice ever see it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MAX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_RATIO = 100
# Tiny members compress badly or absurdly well without meaning anything; the ratio rule
# only applies once a member would inflate past this.
RATIO_FLOOR = 1024 * 1024

MACRO_CONTENT_TYPES = (
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-office.vbaProject",
    "application/vnd.ms-excel.macrosheet+xml",
    "application/vnd.ms-excel.intlmacrosheet+xml",
    "application/vnd.ms-office.activeX+xml",
)
WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


class Rejected(Exception):
    """The file is unsafe or unreadable; `str(err)` says why, naming the file."""


def _head(path: Path, n: int = 8) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def check_xlsx(path: Path, *, name: str | None = None) -> zipfile.ZipFile:
    """Return the opened zip if `path` is a plain .xlsx workbook, else raise Rejected."""
    label = name or path.name
    size = path.stat().st_size
    if size == 0:
        raise Rejected(f"{label} is empty.")
    head = _head(path)
    if head.startswith(b"%PDF"):
        raise Rejected(f"{label} is a PDF, not an Excel workbook; upload the .xlsx file.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise Rejected(f"{label} is an old binary Excel (.xls) or encrypted file; save it as .xlsx without a password.")
    if not head.startswith(b"PK"):
        raise Rejected(f"{label} is not an Excel .xlsx workbook (it is not a zip package).")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Rejected(f"{label} is a damaged zip package and cannot be read ({exc}).") from None
    try:
        _check_members(archive, label)
        _check_content_types(archive, label)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_members(archive: zipfile.ZipFile, label: str) -> None:
    total = 0
    names = set()
    for info in archive.infolist():
        names.add(info.filename)
        if info.flag_bits & 0x1:
            raise Rejected(f"{label} contains encrypted parts; remove the password and upload again.")
        total += info.file_size
        if total > MAX_UNCOMPRESSED:
            raise Rejected(
                f"{label} would expand to more than {MAX_UNCOMPRESSED // (1024 * 1024)} MB when opened; "
                "it looks like a zip bomb and was refused."
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Rejected(
                f"{label}: part {info.filename} compresses more than {MAX_RATIO}:1; "
                "it looks like a zip bomb and was refused."
            )
        lowered = info.filename.lower()
        if lowered.endswith("vbaproject.bin") or lowered.endswith("vbaprojectsignature.bin"):
            raise Rejected(f"{label} contains macros (xl/vbaProject.bin); macro-enabled workbooks are not accepted. "
                           "Save it as a plain .xlsx workbook.")
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise Rejected(f"{label} is a zip file but not an Excel workbook (no xl/ parts).")


def _check_content_types(archive: zipfile.ZipFile, label: str) -> None:
    raw = archive.read("[Content_Types].xml")
    root = parse_xml(raw, label=label, part="[Content_Types].xml")
    types = {el.get("ContentType", "") for el in root.iter() if el.get("ContentType")}
    if any(t in types for t in MACRO_CONTENT_TYPES):
        raise Rejected(f"{label} is a macro-enabled workbook (.xlsm content); macros are not accepted. "
                       "Save it as a plain .xlsx workbook.")
    if WORKBOOK_TYPE not in types:
        raise Rejected(f"{label} is not an .xlsx workbook (its content types name no spreadsheet).")
    # Entity declarations are refused in every XML part, not only the ones parsed whole:
    # the streaming sheet scanner reads raw bytes, so a DOCTYPE anywhere is a refusal.
    for info in archive.infolist():
        if info.filename.endswith((".xml", ".rels", ".vml")):
            with archive.open(info) as fh:
                head = fh.read(2048)
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise Rejected(f"{label}: part {info.filename} declares XML entities (a DOCTYPE); "
                               "such files are refused as unsafe.")


def parse_xml(raw: bytes, *, label: str, part: str):
    """defusedxml: entity bombs and external entities raise instead of expanding."""
    try:
        return SafeET.fromstring(raw)
    except DefusedXmlException:
        raise Rejected(f"{label}: part {part} declares XML entities; such files are refused as unsafe.") from None
    except SafeET.ParseError as exc:
        raise Rejected(f"{label}: part {part} is not well-formed XML ({exc}).") from None
