"""Reading a workbook's cached values and formulas without loading it into openpyxl.

One streaming pass over each sheet's XML gives, per cell, the value Excel cached at
save time and whether the cell holds a formula. That is all the checks need, and it
is several times faster and smaller than `openpyxl.load_workbook` on big models.
The pass is linear in the sheet's size whatever the bytes are (a hostile sheet once
made the old cell pattern quadratic), and each file has a CPU budget.

python-calamine was tried for the values: it reads them fast but returns '' for
error cells (#DIV/0! ...) and cannot say which formulas lack a cached value, and the
checks need both; the scan below reads those from the same bytes it already holds.
"""

from __future__ import annotations

import html
import posixpath
import pyexpat
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as SafeET

from core.config import env_float
from core.validation.safety import Rejected, check_xlsx, parse_xml

NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!")

# First the shape Excel, openpyxl and XlsxWriter write for almost every cell (r, s, t in
# that order; a plain formula; a cached value), read in one match; then any other cell.
# A cell's content may hold any tag but another cell's, so a cell left open never makes
# the pattern scan past the next one: the scan stays linear in the sheet's size.
_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="[0-9]+")?(?: t="([a-zA-Z]+)")?>(?:<f>([^<]*)</f>)?<v>([^<]*)</v></c>'
    rb"|<c(?=[\s/>])([^>]*?)(?:/>|>((?:[^<]++|<(?!/?c[\s/>]))*+)</c>)")
_CELL_NAME_END = (b" ", b"\t", b"\r", b"\n", b"/", b">")
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')
# Inside a cell: text never holds '<', so none of these can scan past the next tag.
_FORMULA = re.compile(rb"<f\b([^>]*?)(?:/>|>([^<]*)</f>)")
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_INLINE_T = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")
_SI = re.compile(rb'\bsi="([0-9]+)"')
_SHARED_REF = re.compile(rb'\bref="([A-Z0-9:$]+)"')
CHUNK = 1 << 20
# Excel caps a cell at 32,767 characters and a formula at 8,192; escaped as XML with rich
# text runs that stays well under this.
MAX_CELL_BYTES = 4 << 20
# expat remembers every open element (about 120 bytes each); real sheets nest under ten.
MAX_DEPTH = 250_000


def col_letter(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def cell_ref(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


@dataclass
class Sheet:
    name: str
    # (row, col) -> cached value: float, str, bool, or an ERROR_CODES string.
    values: dict[tuple[int, int], object] = field(default_factory=dict)
    formula_cells: set[tuple[int, int]] = field(default_factory=set)
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)
    missing_values: list[tuple[int, int]] = field(default_factory=list)
    # Only filled when read with keep_formulas=True (review page, version diff).
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    shared: dict[str, tuple[tuple[int, int], str]] = field(default_factory=dict)
    max_row: int = 0
    max_col: int = 0

    def value(self, row: int, col: int):
        return self.values.get((row, col))

    def is_formula(self, row: int, col: int) -> bool:
        return (row, col) in self.formula_cells

    def formula(self, row: int, col: int) -> str | None:
        """The formula text (with '='), translating shared-formula children."""
        raw = self.formulas.get((row, col))
        if raw is None:
            return None
        if raw.startswith("\x00shared:"):
            master = self.shared.get(raw.split(":", 1)[1])
            if master is None:
                return "=<shared formula>"
            (mrow, mcol), text = master
            from openpyxl.formula.translate import Translator

            return Translator("=" + text, origin=cell_ref(mrow, mcol)).translate_formula(cell_ref(row, col))
        return "=" + raw


@dataclass
class Workbook:
    sheets: dict[str, Sheet]
    defined_names: dict[str, str]  # lower-case name -> "Sheet!$A$1"
    order: list[str]

    def sheet(self, name: str) -> Sheet:
        return self.sheets[name]

    @property
    def missing_values(self) -> list[tuple[str, tuple[int, int]]]:
        return [(s.name, rc) for s in self.sheets.values() for rc in s.missing_values]


def _sheet_parts(archive: zipfile.ZipFile, label: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    root = parse_xml(archive.read("xl/workbook.xml"), label=label, part="xl/workbook.xml")
    rels_root = parse_xml(archive.read("xl/_rels/workbook.xml.rels"), label=label, part="xl/_rels/workbook.xml.rels")
    targets = {}
    for rel in rels_root.iter(f"{NS_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[rel.get("Id")] = target
    sheets = []
    for el in root.iter(f"{NS_MAIN}sheet"):
        rid = el.get(f"{NS_REL}id")
        part = targets.get(rid)
        if part and part.startswith("xl/worksheets/"):
            sheets.append((el.get("name", ""), part))
    names = {}
    for el in root.iter(f"{NS_MAIN}definedName"):
        if el.get("localSheetId") is None and el.text:
            names[el.get("name", "").lower()] = el.text.strip()
    return sheets, names


def _shared_strings(archive: zipfile.ZipFile, label: str, budget: _CpuBudget | None = None) -> list[str]:
    try:
        info = archive.getinfo("xl/sharedStrings.xml")
    except KeyError:
        return []
    strings: list[str] = []
    try:
        with archive.open(info) as fh:
            for _event, el in SafeET.iterparse(fh, events=("end",)):
                if el.tag == f"{NS_MAIN}si":
                    strings.append("".join(t.text or "" for t in el.iter(f"{NS_MAIN}t")))
                    el.clear()
                    if budget is not None and len(strings) % 4096 == 0:
                        budget.check("xl/sharedStrings.xml")
    except SafeET.ParseError as exc:
        raise Rejected(f"{label}: xl/sharedStrings.xml is not well-formed XML ({exc}).") from None
    except Exception as exc:  # defusedxml raises its own classes for entity declarations
        if "Entit" in type(exc).__name__ or "DTD" in type(exc).__name__:
            raise Rejected(f"{label}: xl/sharedStrings.xml declares XML entities; refused as unsafe.") from None
        raise
    return strings


class _CpuBudget:
    """CPU seconds one file may spend being read; this thread's time, so other users' work never counts."""

    def __init__(self, label: str):
        self.label = label
        self.seconds = env_float("NGI_VALIDATION_CPU_SECONDS")
        self.started = time.thread_time()

    def check(self, where: str) -> None:
        if time.thread_time() - self.started > self.seconds:
            raise Rejected(f"{self.label}: {where} took more than {self.seconds:g} s of CPU time to read "
                           "(the NGI_VALIDATION_CPU_SECONDS limit), so the file was refused. Save a smaller copy "
                           "of the workbook, or ask staff to raise the limit.")


def _well_formedness_checker(label: str, where: str):
    """An expat parser with no element handlers: it checks every byte at C speed and keeps nothing.

    A DOCTYPE is refused outright, so no entity can be declared, expanded or fetched.
    """
    parser = pyexpat.ParserCreate()

    def refuse(*_args):
        raise Rejected(f"{label}: {where} declares XML entities (a DOCTYPE); such files are refused as unsafe.")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _last_cell_start(buffer: bytes, start: int) -> int:
    """Where the last cell that later bytes could still complete begins (len(buffer) if none)."""
    end = len(buffer)
    while (k := buffer.rfind(b"<c", start, end)) >= 0:
        if buffer[k + 2:k + 3] in _CELL_NAME_END:
            return k
        end = k + 1  # <cols>, <color ...>, or a name the next chunk finishes: look further left
    for tail in (b"<c", b"<"):  # no cell begun: keep only what the next chunk may finish as "<c "
        if buffer.endswith(tail) and len(buffer) - len(tail) >= start:
            return len(buffer) - len(tail)
    return len(buffer)


def _scan_sheet(archive: zipfile.ZipFile, part: str, sheet: Sheet, strings: list[str], keep_formulas: bool,
                *, label: str, budget: _CpuBudget) -> None:
    """Read the cells in one linear pass, a chunk at a time.

    expat sees each chunk first, so the cell pattern only ever runs on bytes that are a
    well-formed prefix of the sheet; the pattern cannot run past the next cell tag, and
    only an unfinished last cell is carried to the next chunk. Together that keeps the
    work proportional to the sheet's size whatever its content.
    """
    where = f"sheet {sheet.name!r} ({part})"
    checker = _well_formedness_checker(label, where)
    values, formula_cells = sheet.values, sheet.formula_cells
    max_row = max_col = 0
    col_cache: dict[bytes, int] = {}
    buffer = b""
    consumed = 0  # sheet bytes before buffer[0]
    depth = 0
    with archive.open(part) as fh:
        while True:
            chunk = fh.read(CHUNK)
            try:
                checker.Parse(chunk, not chunk)
            except pyexpat.ExpatError as exc:
                raise Rejected(f"{label}: {where} is not well-formed XML ({pyexpat.ErrorString(exc.code)} "
                               f"at line {exc.lineno}, column {exc.offset + 1}); it was refused. "
                               "Open the file in Excel or LibreOffice, save it, and upload it again.") from None
            if not chunk:
                break
            # expat keeps every open element; a sheet nested absurdly deep is refused before that costs memory.
            opens = chunk.count(b"<") - chunk.count(b"</") - chunk.count(b"<?") - chunk.count(b"<!")
            depth += opens - chunk.count(b"</") - chunk.count(b"/>")
            if depth > MAX_DEPTH:
                raise Rejected(f"{label}: {where} nests elements more than {MAX_DEPTH:,} deep by byte "
                               f"{consumed + len(buffer) + len(chunk):,}; no spreadsheet does that, so it was refused.")
            buffer = buffer + chunk if buffer else chunk
            end = 0
            for m in _CELL.finditer(buffer):
                end = m.end()
                letters = m.group(1)
                common = letters is not None
                if common:
                    digits, kind, f_text, raw = m.group(2, 3, 4, 5)
                else:
                    attrs, inner = m.group(6, 7)
                    ref = _REF.search(attrs)
                    if ref is None or not inner:
                        continue  # no r=: no position we can report; no content: nothing to read
                    letters, digits = ref.group(1, 2)
                col = col_cache.get(letters)
                if col is None:
                    col = col_cache[letters] = col_number(letters.decode())
                row = int(digits)
                if row > max_row:
                    max_row = row
                if col > max_col:
                    max_col = col
                key = (row, col)
                if not common:
                    _read_cell(sheet, key, attrs, inner, strings, keep_formulas)
                    continue
                if f_text is not None:
                    formula_cells.add(key)
                    if keep_formulas:
                        sheet.formulas[key] = html.unescape(f_text.decode("utf-8"))
                if kind is None and raw:
                    values[key] = float(raw)
                else:
                    _store_value(sheet, key, kind or b"n", raw, strings)
            cut = _last_cell_start(buffer, end)
            consumed += cut
            buffer = buffer[cut:]
            if len(buffer) > MAX_CELL_BYTES:
                raise Rejected(f"{label}: {where} has a cell at byte {consumed:,} that runs past "
                               f"{MAX_CELL_BYTES // (1024 * 1024)} MB; no Excel cell is that large, so it was refused.")
            budget.check(where)
    sheet.max_row, sheet.max_col = max_row, max_col


def _read_cell(sheet: Sheet, key: tuple[int, int], attrs: bytes, inner: bytes, strings: list[str],
               keep_formulas: bool) -> None:
    kind_match = _TYPE.search(attrs)
    kind = kind_match.group(1) if kind_match else b"n"
    f = _FORMULA.search(inner) if b"<f" in inner else None  # not <family> in rich text
    if f is not None:
        sheet.formula_cells.add(key)
        if keep_formulas:
            f_attrs, f_text = f.group(1), f.group(2)
            si_match = _SI.search(f_attrs) if b"shared" in f_attrs else None  # a shared formula without si= is plain
            if si_match is not None:
                si = si_match.group(1).decode()
                if f_text:
                    sheet.shared[si] = (key, html.unescape(f_text.decode("utf-8")))
                    sheet.formulas[key] = html.unescape(f_text.decode("utf-8"))
                else:
                    sheet.formulas[key] = "\x00shared:" + si
            else:
                sheet.formulas[key] = html.unescape((f_text or b"").decode("utf-8"))
    v = _VALUE.search(inner)
    if v is None:
        if kind == b"inlineStr":
            sheet.values[key] = html.unescape("".join(t.decode("utf-8") for t in _INLINE_T.findall(inner)))
        elif key in sheet.formula_cells:
            sheet.missing_values.append(key)
        return
    _store_value(sheet, key, kind, v.group(1), strings)


def _store_value(sheet: Sheet, key: tuple[int, int], kind: bytes, raw: bytes, strings: list[str]) -> None:
    values = sheet.values
    if kind == b"n":
        if not raw:
            if key in sheet.formula_cells:
                sheet.missing_values.append(key)
            return
        values[key] = float(raw)
    elif kind == b"s":
        index = int(raw)
        values[key] = strings[index] if 0 <= index < len(strings) else ""
    elif kind == b"e":
        text = raw.decode("utf-8", "replace")
        values[key] = text
        sheet.error_cells[key] = text
    elif kind == b"b":
        values[key] = raw == b"1"
    else:  # str (formula string result), d (ISO date)
        values[key] = html.unescape(raw.decode("utf-8"))


def read_workbook(path: Path, *, name: str | None = None, keep_formulas: bool = False) -> Workbook:
    """Safety-check then scan `path`. Raises Rejected with a message naming the file."""
    label = name or Path(path).name
    archive = check_xlsx(Path(path), name=label)
    try:
        try:
            parts, defined = _sheet_parts(archive, label)
        except KeyError as exc:
            raise Rejected(f"{label} is missing a workbook part ({exc}); it is not a complete .xlsx file.") from None
        budget = _CpuBudget(label)
        strings = _shared_strings(archive, label, budget)
        sheets: dict[str, Sheet] = {}
        for sheet_name, part in parts:
            sheet = Sheet(name=sheet_name)
            try:
                _scan_sheet(archive, part, sheet, strings, keep_formulas, label=label, budget=budget)
            except KeyError:
                raise Rejected(f"{label}: sheet {sheet_name!r} has no data part ({part}).") from None
            except (ValueError, IndexError, zipfile.BadZipFile, OSError) as exc:
                raise Rejected(f"{label}: sheet {sheet_name!r} could not be read ({exc}).") from None
            sheets[sheet_name] = sheet
    finally:
        archive.close()
    if not sheets:
        raise Rejected(f"{label} contains no worksheets.")
    return Workbook(sheets=sheets, defined_names=defined, order=list(sheets))
