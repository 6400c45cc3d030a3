"""Cells that spreadsheets must not run: every CSV and XLSX the product writes goes through here.

A text cell that starts with `=`, `+`, `-`, `@` (or a tab or carriage return) is a formula to
Excel and LibreOffice: an agency named `=HYPERLINK("http://evil.example","x")` would become a
live link, or worse, in an analyst's export. CSV cells of that kind get a leading apostrophe
(OWASP's advice: spreadsheets show the text, not a formula); XLSX cells are stored as text,
so the analyst sees exactly the name. Numbers stay numbers (a negative rate is not text).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value):
    """The value to write to a CSV cell: formula-like text gets a leading apostrophe."""
    return "'" + value if is_formula_like(value) else value


class CsvWriter:
    """`csv.writer` whose cells are neutralised (same `writerow` and `writerows`)."""

    def __init__(self, buffer, **kwargs):
        self._writer = csv.writer(buffer, **kwargs)

    def writerow(self, row: Iterable):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def csv_bytes(rows: Iterable[Iterable]) -> bytes:
    """Rows as a CSV file for Excel: UTF-8 with a byte-order mark (without it Excel misreads
    Vietnamese letters), CRLF line ends, formula-like cells neutralised."""
    buffer = io.StringIO()
    CsvWriter(buffer, lineterminator="\r\n").writerows(rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def write_table(fmt: str, header: list[str], rows: list[list], sheet: str = "Sheet1") -> bytes:
    """One table as a CSV (`csv_bytes`) or XLSX file (one sheet named `sheet`)."""
    if fmt == "csv":
        return csv_bytes([header, *rows])
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        worksheet = book.create_sheet(sheet[:31])
        xlsx_append(worksheet, header)
        for row in rows:
            xlsx_append(worksheet, row)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r}; allowed: csv, xlsx")


def xlsx_append(worksheet, values: Iterable) -> None:
    """`worksheet.append(values)`, with formula-like text stored as text, not as a formula
    (openpyxl turns every string that starts with `=` into one)."""
    values = list(values)
    if not any(is_formula_like(value) for value in values):
        worksheet.append(values)
        return
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    if isinstance(worksheet, WriteOnlyWorksheet):
        cells = []
        for value in values:
            if is_formula_like(value):
                cell = WriteOnlyCell(worksheet, value)
                cell.data_type = "s"
                value = cell
            cells.append(value)
        worksheet.append(cells)
        return
    worksheet.append(values)
    for cell in worksheet[worksheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"
