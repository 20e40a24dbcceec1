"""Every CSV and Excel file staff download is written here, so none of them can carry a
formula: names, cohorts, notes and file names come from students and staff, and a cell
starting with = + - @ (or a tab or carriage return before one) runs as a formula when a
spreadsheet opens the file (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would read as a formula, prefixed with ' so it stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """Dates as ISO text, missing values as None, numbers as numbers, anything else as text."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, int | float):
        return value
    if hasattr(value, "item") and not isinstance(value, str):  # numpy / pandas scalars
        return _plain(value.item())
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (ImportError, TypeError, ValueError):
        pass
    return str(value)


def _records(rows, columns: Sequence[str] | None) -> tuple[list[str], Iterable[Mapping[str, Any]]]:
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a DataFrame
        columns = list(columns or rows.columns)
        return columns, rows.to_dict("records")
    rows = list(rows)
    return list(columns or (rows[0].keys() if rows else [])), rows


def to_csv(rows, columns: Sequence[str] | None = None) -> bytes:
    """Rows (dicts or a DataFrame) as UTF-8 CSV with a BOM, so Excel reads accents right."""
    columns, records = _records(rows, columns)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(c) for c in columns])
    for row in records:
        values = (neutralise(_plain(row.get(c))) for c in columns)
        writer.writerow(["" if v is None else v for v in values])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows, columns: Sequence[str] | None = None, *, sheet: str = "Export") -> bytes:
    """Rows as one worksheet. Text goes through write_string, so it is stored as text and
    never becomes a formula; it is kept as typed (a ' would show in the cell)."""
    import xlsxwriter

    columns, records = _records(rows, columns)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                      "strings_to_numbers": False, "strings_to_urls": False})
    ws = wb.add_worksheet(sheet[:31])
    bold = wb.add_format({"bold": True})
    for c, col in enumerate(columns):
        ws.write_string(0, c, str(col), bold)
    for r, row in enumerate(records, start=1):
        for c, col in enumerate(columns):
            value = _plain(row.get(col))
            if value is None:
                continue
            if isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    wb.close()
    return buffer.getvalue()
