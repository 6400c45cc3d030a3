"""Reading a CSV or XLSX file row by row, whatever its encoding, delimiter and headings.

A file is streamed (CSV through a text wrapper, XLSX with openpyxl's read-only mode), never
loaded whole; an XLSX is checked for decompression bombs before openpyxl opens it.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from survey.imports.results import FileProblem

SAMPLE = 1 << 20  # bytes looked at to tell UTF-8 from Windows-1258
EARLIEST = date(2000, 1, 1)  # no imported date may be older


def _clean(value) -> str:
    """A cell as trimmed NFC text (Windows-1258 writes diacritics as combining marks)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.isascii():
        return value.strip()  # the common case: nothing to normalise
    if isinstance(value, datetime):
        value = value.date() if value.time() == time(0) else value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def header_key(value: str) -> str:
    return " ".join(_clean(value).lstrip("\ufeff").lower().replace("_", " ").split())


class Table:
    """A CSV or XLSX file's rows, streamed: `header`, then `rows()` as (row number, cells)."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        stream.seek(0, io.SEEK_END)
        self.size = stream.tell()
        stream.seek(0)
        head = stream.read(SAMPLE)
        stream.seek(0)
        if not head.strip():
            raise FileProblem(_l("The file is empty."))
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise FileProblem(
                _l(
                    "This is an old Excel 97-2003 (.xls) file. Save it as Excel workbook (.xlsx) or CSV UTF-8 and try again."
                )
            )
        self.kind = "xlsx" if head.startswith(b"PK\x03\x04") else "csv"
        self.encoding: str | None = None
        if self.kind == "xlsx":
            self._open_xlsx()
        else:
            self._open_csv(head)

    def _set_header(self, cells) -> None:
        self.header = [header_key(cell) for cell in cells]
        # The headings as the file spells them, for error messages ("mức độ hài lòng").
        self.raw_header = [_clean(cell).lstrip("\ufeff") for cell in cells]
        self.headings: dict[str, str] = {}

    # CSV ---------------------------------------------------------------------------------
    def _open_csv(self, head: bytes) -> None:
        self.encoding = detect_encoding(head)
        sample = head.decode(self.encoding, errors="ignore")
        first_line = sample.lstrip("\ufeff").splitlines()[0] if sample.strip() else ""
        delimiter = max(",;\t", key=first_line.count)
        self._text = io.TextIOWrapper(self.stream, encoding=self.encoding, newline="")
        # strict: a quote that is never closed (or text right after a closing quote) is an
        # error on that line, instead of silently swallowing the following rows into one cell.
        self._reader = csv.reader(self._text, delimiter=delimiter, strict=True)
        self._line = 0
        try:
            self._set_header(self._next_csv())
        except StopIteration:
            raise FileProblem(_l("The file is empty.")) from None

    def _next_csv(self) -> list[str]:
        try:
            cells = next(self._reader)
        except UnicodeDecodeError:
            raise FileProblem(
                _l(
                    "The file mixes text encodings. Save it as CSV UTF-8 and try again (in Excel: File → Save As → CSV UTF-8)."
                ),
                row=self._line + 1,
            ) from None
        except csv.Error as error:
            raise FileProblem(
                _l("This line cannot be read as CSV (%(error)s).", error=str(error)),
                row=self._line + 1,
            ) from None
        self._line = self._reader.line_num
        return cells

    # XLSX --------------------------------------------------------------------------------
    def _open_xlsx(self) -> None:
        import openpyxl

        cannot_open = FileProblem(
            _l("This Excel file cannot be opened. Save it again as .xlsx and try again.")
        )
        check_xlsx_parts(self.stream)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about styles it does not read
                self._book = openpyxl.load_workbook(self.stream, read_only=True, data_only=True)
            sheet = self._book.worksheets[0]  # IndexError: a workbook without a worksheet
        except Exception:  # noqa: BLE001 - any parse error of a foreign file is "cannot open"
            raise cannot_open from None
        self.total_rows = sheet.max_row
        self._rows = sheet.iter_rows(values_only=True)
        self._line = 0
        try:
            self._set_header(self._next_xlsx())
        except StopIteration:
            raise FileProblem(_l("The file is empty.")) from None
        while self.header and not self.header[-1]:
            self.header.pop()

    def _next_xlsx(self) -> list:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                cells = next(self._rows)
            except StopIteration:
                raise
            except Exception:  # noqa: BLE001 - broken XML inside the sheet
                raise FileProblem(
                    _l("This Excel file cannot be opened. Save it again as .xlsx and try again."),
                    row=self._line + 1,
                ) from None
        self._line += 1
        return list(cells)

    # both --------------------------------------------------------------------------------
    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cleaned cells), skipping blank lines."""
        read = self._next_csv if self.kind == "csv" else self._next_xlsx
        width = len(self.header)
        while True:
            try:
                cells = read()
            except StopIteration:
                break
            if self.kind == "csv" and unicodedata.is_normalized("NFC", joined := "".join(cells)):
                cleaned = [cell.strip() for cell in cells]  # the common case, kept fast
            else:
                cleaned = [_clean(cell) for cell in cells]
                joined = "".join(cleaned)
            if "\x00" in joined:
                raise FileProblem(
                    _l(
                        "This line contains a NUL character (\\0), which is not text. Save the file again as CSV UTF-8 or Excel workbook (.xlsx)."
                    ),
                    row=self._line,
                )
            if not any(cleaned):
                continue
            if len(cleaned) < width:
                cleaned.extend([""] * (width - len(cleaned)))
            yield self._line, cleaned
        self.close()

    def progress(self) -> tuple[int, int | None]:
        """(done, total): bytes for CSV, rows for XLSX."""
        if self.kind == "csv":
            return self.stream.tell(), self.size
        return self._line, self.total_rows

    def close(self) -> None:
        if self.kind == "xlsx":
            self._book.close()
        else:
            self._text.detach()

    def columns(self, aliases: dict[str, str], required: tuple[str, ...], extra=None):
        """Map canonical column names to their index; FileProblem for missing or odd ones.

        `extra` maps further accepted headings (as `header_key` spells them) to their names.
        """
        lookup = {header_key(alias): name for alias, name in aliases.items()}
        found: dict[str, int] = {}
        for index, heading in enumerate(self.header):
            if not heading:
                continue
            name = lookup.get(heading) or (extra or {}).get(heading)
            if name is None:
                raise FileProblem(
                    _l(
                        "Unknown column %(column)s. Allowed columns: %(allowed)s.",
                        column=heading,
                        allowed=", ".join(
                            [*dict.fromkeys(aliases.values()), *sorted(set((extra or {}).values()))]
                        ),
                    ),
                    row=1,
                    column=heading,
                )
            if name in found:
                raise FileProblem(
                    _l("The column %(column)s appears twice.", column=name), row=1, column=heading
                )
            found[name] = index
            self.headings[name] = self.raw_header[index] or heading
        missing = [name for name in required if name not in found]
        if missing:
            raise FileProblem(
                _l(
                    "Missing column(s): %(missing)s. The first row must name the columns: %(required)s.",
                    missing=", ".join(missing),
                    required=", ".join(required),
                ),
                row=1,
            )
        return found


# An XLSX is a ZIP of XML parts. A real batch of 100,000 paper forms expands to well under
# 100 MB; a "bomb" of a few hundred KB can declare or hold gigabytes, and openpyxl keeps the
# shared strings in memory. So every part is checked before openpyxl reads anything: its
# declared size, then its actual size (streamed, stopping at the limit), and no DTD.
XLSX_MAX_PART = 128 * 1024 * 1024  # one sheet
XLSX_MAX_SHARED_STRINGS = 32 * 1024 * 1024  # held in memory by openpyxl
XLSX_MAX_TOTAL = 192 * 1024 * 1024
XLSX_MAX_PARTS = 500
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def by_name(cells: list[str], columns: dict[str, int]) -> Callable[[str], str]:
    """A row's cells by column name, as `Table.columns` maps them ("" for an optional column the
    file does not have; rows come padded to the header's width)."""
    return lambda name: cells[columns[name]] if name in columns else ""


def check_xlsx_parts(stream: BinaryIO) -> None:
    """FileProblem unless the XLSX's parts are of a sane size and free of DTDs; the stream is
    rewound."""
    too_large = FileProblem(
        _l(
            "This Excel file expands to more data than an import can take. Split it into smaller files, or save it as CSV UTF-8."
        )
    )
    cannot_read = FileProblem(
        _l("This Excel file cannot be opened. Save it again as .xlsx and try again.")
    )
    try:
        archive = zipfile.ZipFile(stream)
        parts = archive.infolist()
        if len(parts) > XLSX_MAX_PARTS:
            raise cannot_read
        total = 0
        for part in parts:
            limit = (
                XLSX_MAX_SHARED_STRINGS
                if part.filename.lower().endswith("sharedstrings.xml")
                else XLSX_MAX_PART
            )
            if part.file_size > limit or total + part.file_size > XLSX_MAX_TOTAL:
                raise too_large
            size, tail = 0, b""
            with archive.open(part) as member:
                while chunk := member.read(1024 * 1024):
                    size += len(chunk)
                    if size > limit or total + size > XLSX_MAX_TOTAL:
                        raise too_large
                    if part.filename.lower().endswith((".xml", ".rels")) and _DTD.search(
                        tail + chunk
                    ):
                        raise cannot_read  # no DTD or entity declaration in any part
                    tail = chunk[-16:]
            total += size
    except FileProblem:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise cannot_read from None
    except Exception:  # noqa: BLE001 - e.g. zlib.error, NotImplementedError (compression)
        raise cannot_read from None
    finally:
        stream.seek(0)


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without a BOM), UTF-16, or Windows-1258."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:400]
    if sample.count(0) * 4 >= len(sample):  # UTF-16 without a BOM: a NUL every other byte
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SAMPLE)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1258")
    except UnicodeDecodeError:
        raise FileProblem(
            _l(
                "The text encoding of this file is not recognised. Save it as CSV UTF-8 and try again (in Excel: File → Save As → CSV UTF-8)."
            )
        ) from None
    return "cp1258"


@functools.lru_cache(maxsize=4096)
def parse_date(raw: str) -> date | None:
    """YYYY-MM-DD or DD/MM/YYYY (also with dashes or dots); None if it is neither.

    Cached: a file of paper forms repeats the same few hundred dates.
    """
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    return None
