"""Streaming, all-or-nothing imports of the agency tree and of paper forms, for web and CLI.

A file is read row by row (CSV through a text wrapper, XLSX with openpyxl's read-only mode),
never loaded whole. Every row is checked; the first error stops the writing but not the
checking, so that one run reports up to `MAX_ERRORS` problems, each naming its row and column.
Any error rolls the whole transaction back: an import writes everything or nothing.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import functools
import gc
import hashlib
import io
import itertools
import json
import re
import secrets
import time as time_module
import unicodedata
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import BinaryIO, NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from survey.cases import service as cases
from survey.collation import fold
from survey.extensions import db
from survey.fields import COMMENT_MAX_LENGTH
from survey.models import (
    Agency,
    Answer,
    Channel,
    Desk,
    Kind,
    Level,
    Questionnaire,
    Response,
    Status,
    utcnow,
)
from survey.periods import LOCAL_OFFSET
from survey.responses import content_digest, mask_personal_numbers
from survey.spreadsheets import CsvWriter, xlsx_append

MAX_ERRORS = 50
CHUNK = 10000
SAMPLE = 1 << 20  # bytes looked at to tell UTF-8 from Windows-1258
# Paper forms are dated, not timed: they are stored at local noon, safely inside the day.
PAPER_TIME = time(12, 0)
EARLIEST = date(2000, 1, 1)
CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
FORM_NUMBER = re.compile(r"^[\w./\-]{1,60}$")

Progress = Callable[[int, int | None], None]


# ---- results and errors ----------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A problem in the file. `row` counts lines of the file (the header is row 1)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is not None and self.column:
            return _("Row %(row)d, column %(column)s: %(message)s", **self._parts())
        if self.row is not None:
            return _("Row %(row)d: %(message)s", **self._parts())
        return str(self.message)

    def _parts(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    """What an import did (or, with errors or a dry run, would have done)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    truncated: bool = False
    dry_run: bool = False
    cases: int = 0  # paper forms: cases the new forms' comments opened

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def add_error(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.errors) >= MAX_ERRORS:
            self.truncated = True
            return
        self.errors.append(RowError(row, column, message))

    @property
    def full(self) -> bool:
        return self.truncated or len(self.errors) >= MAX_ERRORS


class FileProblem(Exception):
    """The file as a whole can't be read (format, encoding, header)."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        super().__init__(str(message))
        self.error = RowError(row, column, str(message))


# ---- reading CSV and XLSX --------------------------------------------------------------------


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


def _run(table_factory, work, result: ImportResult, dry_run: bool) -> ImportResult:
    """Run `work` in one transaction: commit only when there is no error and it is not a dry run."""
    result.dry_run = dry_run
    table = None
    try:
        table = table_factory()
        work(table)
    except FileProblem as problem:
        result.errors.insert(0, problem.error)
    except IntegrityError:
        db.session.rollback()
        result.add_error(
            None,
            None,
            _(
                "Someone changed the same records while this file was being imported. Nothing was written; please import it again."
            ),
        )
        return result
    if table is not None and table.headings:
        # Errors name columns by the file's own headings, not by the internal codes.
        result.errors = [
            replace(e, column=table.headings.get(e.column, e.column)) for e in result.errors
        ]
    if result.ok and not dry_run:
        db.session.commit()
    else:
        db.session.rollback()
    return result


def update_by_id(table: sa.Table, rows: list[dict], columns) -> None:
    """`UPDATE table SET <column> = :<key>, ... WHERE id = :b_id` for every dict of `rows`,
    executed many at a time in chunks of `CHUNK` (one statement, Core executemany). `columns`
    names the columns to set, each read from the key of the same name, or maps column names
    to keys (e.g. `{"expires_at": "b_expires"}`: a bound name may not be a column's)."""
    if not rows:
        return
    mapping = columns if isinstance(columns, dict) else {c: c for c in columns}
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values({column: sa.bindparam(key) for column, key in mapping.items()})
    )
    for start in range(0, len(rows), CHUNK):
        db.session.execute(statement, rows[start : start + CHUNK])


def _tick(table: Table, progress: Progress | None) -> None:
    if progress is not None:
        progress(*table.progress())


# ---- agencies --------------------------------------------------------------------------------

AGENCY_COLUMNS = {
    "code": "code",
    "mã": "code",
    "mã cơ quan": "code",
    "mã đơn vị": "code",
    "name": "name",
    "tên": "name",
    "tên cơ quan": "name",
    "tên đơn vị": "name",
    "parent code": "parent_code",
    "parent": "parent_code",
    "mã cấp trên": "parent_code",
    "mã đơn vị cấp trên": "parent_code",
    "level": "level",
    "cấp": "level",
    "kind": "kind",
    "loại": "kind",
    "lĩnh vực": "kind",
    "name en": "name_en",
    "tên tiếng anh": "name_en",
}
AGENCY_REQUIRED = ("code", "name", "parent_code", "level", "kind")
AGENCY_HEADER = ["code", "name", "parent_code", "level", "kind", "name_en"]

# Values accepted for level and kind besides the codes themselves (compared lower-case, NFC).
LEVEL_ALIASES = {
    "tỉnh": Level.PROVINCE,
    "thành phố trực thuộc trung ương": Level.PROVINCE,
    "sở": Level.DEPARTMENT,
    "sở, ban, ngành": Level.DEPARTMENT,
    "ban": Level.DEPARTMENT,
    "ngành": Level.DEPARTMENT,
    "huyện": Level.DISTRICT,
    "cấp huyện": Level.DISTRICT,
    "quận, huyện": Level.DISTRICT,
    "xã": Level.COMMUNE,
    "phường": Level.COMMUNE,
    "đặc khu": Level.COMMUNE,
    "xã, phường": Level.COMMUNE,
    "cấp xã": Level.COMMUNE,
    "đơn vị sự nghiệp": Level.SERVICE_UNIT,
}
KIND_ALIASES = {
    "hành chính": Kind.ADMINISTRATIVE,
    "y tế": Kind.HEALTH,
    "giáo dục": Kind.EDUCATION,
    "khác": Kind.OTHER,
}


def _enum_value(enum, aliases: dict, raw: str):
    key = " ".join(raw.lower().split())
    for member in enum:
        if key == member.value:
            return member
    return aliases.get(key)


@dataclass
class _AgencyRow:
    row: int
    code: str
    name: str
    parent_code: str
    level: Level
    kind: Kind
    name_en: str | None


def import_agencies(
    stream: BinaryIO, *, dry_run: bool = False, progress: Progress | None = None
) -> ImportResult:
    """Create or update agencies by code from a CSV/XLSX file (code, name, parent_code, level,
    kind, and optionally name_en). Parents may come later in the file. All or nothing."""
    result = ImportResult()

    def work(table: Table) -> None:
        columns = table.columns(AGENCY_COLUMNS, AGENCY_REQUIRED)
        existing = {
            row.code: row
            for row in db.session.execute(
                sa.select(
                    Agency.id,
                    Agency.code,
                    Agency.name,
                    Agency.name_en,
                    Agency.parent_id,
                    Agency.level,
                    Agency.kind,
                )
            )
        }
        code_of_id = {row.id: row.code for row in existing.values()}
        rows: dict[str, _AgencyRow] = {}
        for number, cells in table.rows():
            result.rows += 1
            parsed = _parse_agency(number, cells, columns, result)
            if parsed is not None:
                if parsed.code in rows:
                    result.add_error(
                        number,
                        "code",
                        _(
                            "The code %(code)s is already used on row %(other)d.",
                            code=parsed.code,
                            other=rows[parsed.code].row,
                        ),
                    )
                else:
                    rows[parsed.code] = parsed
            if result.rows % 1000 == 0:
                _tick(table, progress)
            if result.full:
                break
        _tick(table, progress)
        parents = {code: code_of_id.get(row.parent_id) for code, row in existing.items()}
        for code, row in rows.items():
            if row.parent_code and row.parent_code not in rows and row.parent_code not in existing:
                result.add_error(
                    row.row,
                    "parent_code",
                    _("No agency has the code %(code)s.", code=row.parent_code),
                )
            elif row.parent_code == code:
                result.add_error(row.row, "parent_code", _("An agency cannot be its own parent."))
            parents[code] = row.parent_code or None
        if result.ok:
            _check_cycles(rows, parents, result)
        if not result.ok:
            return
        _write_agencies(rows, existing, result)

    return _run(lambda: Table(stream), work, result, dry_run)


def _parse_agency(number, cells, columns, result) -> _AgencyRow | None:
    def cell(name):
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else ""

    before = len(result.errors)
    code, name = cell("code"), cell("name")
    if not code:
        result.add_error(number, "code", _("The code is empty."))
    elif not CODE.match(code):
        result.add_error(
            number,
            "code",
            _(
                "The code %(code)s may contain only letters without diacritics, digits, dots, dashes and underscores (at most 40).",
                code=code,
            ),
        )
    if not name:
        result.add_error(number, "name", _("The name is empty."))
    elif len(name) > 200:
        result.add_error(number, "name", _("The name is longer than 200 characters."))
    level = _enum_value(Level, LEVEL_ALIASES, cell("level"))
    if level is None:
        result.add_error(
            number,
            "level",
            _(
                "Unknown level %(value)s. Use one of: %(allowed)s.",
                value=cell("level") or "∅",
                allowed=", ".join(m.value for m in Level),
            ),
        )
    raw_kind = cell("kind")
    kind = _enum_value(Kind, KIND_ALIASES, raw_kind) if raw_kind else Kind.ADMINISTRATIVE
    if kind is None:
        result.add_error(
            number,
            "kind",
            _(
                "Unknown kind %(value)s. Use one of: %(allowed)s.",
                value=raw_kind,
                allowed=", ".join(m.value for m in Kind),
            ),
        )
    name_en = cell("name_en")
    if len(name_en) > 200:
        result.add_error(number, "name_en", _("The name is longer than 200 characters."))
    if len(result.errors) > before or result.truncated:
        return None
    return _AgencyRow(number, code, name, cell("parent_code"), level, kind, name_en or None)


def _check_cycles(rows: dict[str, _AgencyRow], parents: dict, result: ImportResult) -> None:
    """Walk up from every imported code; a walk that comes back to itself is a cycle."""
    settled: set[str] = set()
    for start in rows:
        path: list[str] = []
        on_path: set[str] = set()
        code = start
        while code is not None and code not in settled:
            if code in on_path:
                loop = path[path.index(code) :] + [code]
                culprit = rows.get(code) or rows[start]
                result.add_error(
                    culprit.row,
                    "parent_code",
                    _("These agencies would form a loop: %(loop)s.", loop=" → ".join(loop)),
                )
                return
            path.append(code)
            on_path.add(code)
            code = parents.get(code)
        settled.update(path)


def _write_agencies(rows: dict[str, _AgencyRow], existing: dict, result: ImportResult) -> None:
    table = Agency.__table__
    now = utcnow()
    new = [row for code, row in rows.items() if code not in existing]
    for start in range(0, len(new), CHUNK):
        db.session.execute(
            sa.insert(table),
            [
                {
                    "code": row.code,
                    "name": row.name,
                    "name_en": row.name_en,
                    "level": row.level,
                    "kind": row.kind,
                    "active": True,
                    "created_at": now,
                }
                for row in new[start : start + CHUNK]
            ],
        )
    result.created = len(new)
    ids = dict(db.session.execute(sa.select(Agency.code, Agency.id)).all())
    updates = []
    for code, row in rows.items():
        parent_id = ids[row.parent_code] if row.parent_code else None
        values = {
            "name": row.name,
            "name_en": row.name_en,
            "parent_id": parent_id,
            "level": row.level,
            "kind": row.kind,
        }
        old = existing.get(code)
        if old is not None:
            same = (old.name, old.name_en, old.parent_id, old.level, old.kind) == tuple(
                values.values()
            )
            if same:
                result.unchanged += 1
                continue
            result.updated += 1
        elif parent_id is None:
            continue
        updates.append({"b_id": ids[code], **values})
    update_by_id(table, updates, ("name", "name_en", "parent_id", "level", "kind"))
    db.session.expire_all()


def export_agencies(fmt: str, scope: set[int] | None = None) -> bytes:
    """The tree (or the subtree `scope`) as CSV (UTF-8 with a BOM, which Excel opens correctly)
    or XLSX."""
    query = (
        sa.select(Agency.id, Agency.code, Agency.name, Agency.parent_id, Agency.level)
        .add_columns(Agency.kind, Agency.name_en)
        .order_by(Agency.code)
    )
    if scope is not None:
        query = query.where(Agency.id.in_(scope))
    agencies = db.session.execute(query).all()
    code_of_id = {row.id: row.code for row in agencies}
    rows = [
        [
            row.code,
            row.name,
            code_of_id.get(row.parent_id, ""),
            str(row.level),
            str(row.kind),
            row.name_en or "",
        ]
        for row in _parents_first(agencies, code_of_id)
    ]
    return write_table(fmt, AGENCY_HEADER, rows, sheet=_("Agencies"))


def _parents_first(agencies, code_of_id):
    """Order rows so that every parent comes before its children (easier to read and edit)."""
    children: dict = {}
    for row in agencies:
        children.setdefault(row.parent_id if row.parent_id in code_of_id else None, []).append(row)
    stack = list(reversed(children.get(None, [])))
    while stack:
        row = stack.pop()
        yield row
        stack.extend(reversed(children.get(row.id, [])))


def write_table(fmt: str, header: list[str], rows: list[list], sheet: str = "Sheet1") -> bytes:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = CsvWriter(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
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


# ---- paper forms -----------------------------------------------------------------------------

PAPER_COLUMNS = {
    "desk code": "desk_code",
    "desk": "desk_code",
    "mã quầy": "desk_code",
    "date": "date",
    "ngày": "date",
    "ngày đánh giá": "date",
    "level": "level",
    "mức độ hài lòng": "level",
    "mức hài lòng": "level",
    "đánh giá": "level",
    "comment": "comment",
    "ý kiến": "comment",
    "góp ý": "comment",
    "form number": "form_number",
    "số phiếu": "form_number",
}
PAPER_REQUIRED = ("desk_code", "date", "level")
FIXED_PAPER = ("desk_code", "date", "level", "comment", "form_number")


class _Scale:
    """What a questionnaire accepts, looked up fast: level codes and their labels, criteria."""

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.codes = questionnaire.level_codes()
        self.lookup: dict[str, str] = {}
        for level in questionnaire.levels:
            self.lookup[level["code"]] = level["code"]
            self.lookup[level["code"].lower()] = level["code"]
            for label in level["label"].values():
                if label:
                    self.lookup[" ".join(label.lower().split())] = level["code"]
        # Without accents and in any case ("rat hai long", "RẤT HÀI LÒNG"), unless two levels
        # would then read alike.
        folded: dict[str, set[str]] = {}
        for level in questionnaire.levels:
            for text in (level["code"].replace("_", " "), *level["label"].values()):
                if text:
                    folded.setdefault(fold(text), set()).add(level["code"])
        self.folded = {key: codes.pop() for key, codes in folded.items() if len(codes) == 1}
        self.criteria = set(questionnaire.criterion_codes())
        self.satisfied = frozenset(questionnaire.satisfied)
        self.pairs = {code: (code, code in self.satisfied) for code in self.codes}

    def level(self, raw: str) -> str | None:
        found = self.lookup.get(raw)  # most cells hold the code itself
        if found is None:
            found = self.lookup.get(" ".join(raw.lower().split()))
        return found if found is not None else self.folded.get(fold(raw))


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


def paper_form_key(desk_id: int, form_number: str | None, row_hash: str, occurrence: int) -> str:
    """The key that makes a re-import change nothing.

    With a form number: the desk and the number. Without: a hash of the row's content and
    how many identical rows came before it in the file, so that two citizens who gave the same
    answers on the same day stay two responses.
    """
    if form_number:
        return f"form:{desk_id}:{form_number}"
    return f"row:{row_hash[:40]}:{occurrence}"


def import_paper(
    stream: BinaryIO,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    today: date | None = None,
    scope: set[int] | None = None,
) -> ImportResult:
    """Import paper forms (desk_code, date, level, one column per criterion code, comment,
    form_number) as responses with channel `paper`. Re-importing the same file changes nothing.
    With a `scope` (an agency administrator's subtree), desks outside it are unknown codes.
    """
    result = ImportResult()
    today = today or (utcnow() + LOCAL_OFFSET).date()

    def work(table: Table) -> None:
        columns = table.columns(PAPER_COLUMNS, PAPER_REQUIRED, extra=_all_criteria())
        with _gc_paused(), _sqlite_cache(db.session.connection()):
            commented = _import_paper_rows(table, columns, result, today, progress, scope)
        if result.ok:
            # A complaint written on paper is worked like any other: its agency answers it.
            result.cases = cases.open_cases_for(commented)

    return _run(lambda: Table(stream), work, result, dry_run)


@contextlib.contextmanager
def _gc_paused():
    """The cyclic garbage collector off while a file is imported.

    An import makes millions of small objects that hold no cycles (tuples, strings), and
    every collection would walk all the rows still waiting to be written: a third of the
    time of a 100,000-row file. Reference counting frees them as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _sqlite_cache(connection: sa.Connection, kib: int = 65536):
    """A larger SQLite page cache (64 MiB, instead of 2 MiB) on this connection while it
    inserts: the indexes of `response` then stay in memory. Other backends are left alone."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection  # a PRAGMA here is outside any transaction
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {int(before)}")


class _Writer:
    """Writes chunks on a second thread while the caller reads and checks the next one.

    SQLite and psycopg release the GIL while the database works, so on two cores the import
    takes about as long as the slower of reading and writing instead of their sum. One chunk
    at most is in flight and `submit` and `wait` wait for it, so the session's connection is
    never used by two threads at once, chunks are written in order, and an exception raised
    while writing reaches the caller. The thread runs in a copy of the caller's context, so
    it sees the same app context and session.
    """

    def __init__(self, write: Callable, done: Callable):
        self._write = write
        self._done = done
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hailong-import")
        self._future: Future | None = None

    def submit(self, *args) -> None:
        self.wait()
        self._future = self._executor.submit(contextvars.copy_context().run, self._write, *args)

    def wait(self) -> None:
        """Wait for the chunk in flight, and hand its outcome to `done`."""
        if self._future is not None:
            future, self._future = self._future, None
            self._done(future.result())

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            if exc_info[0] is None:
                self.wait()
            elif self._future is not None:
                futures_wait([self._future])  # let it finish before the rollback
        finally:
            self._executor.shutdown()


def _all_criteria() -> dict[str, str]:
    """Header spelling -> criterion code, for every criterion of every questionnaire."""
    codes: dict[str, str] = {}
    for criteria in db.session.scalars(sa.select(Questionnaire.criteria)):
        codes.update((header_key(item["code"]), item["code"]) for item in criteria or [])
    return codes


class _PaperDesk(NamedTuple):
    """What a paper row needs of its desk, looked up once per desk code."""

    id: int
    agency_id: int
    questionnaire_id: int
    scale: _Scale


def _paper_desk(code: str, scales: dict[int, _Scale], scope=None) -> _PaperDesk | None:
    desk = db.session.scalar(sa.select(Desk).where(Desk.code == code))
    if desk is None or (scope is not None and desk.agency_id not in scope):
        return None
    questionnaire = desk.current_questionnaire()
    scale = scales.get(questionnaire.id)
    if scale is None:
        scale = scales[questionnaire.id] = _Scale(questionnaire)
    return _PaperDesk(desk.id, desk.agency_id, questionnaire.id, scale)


class _PaperRow(NamedTuple):
    number: int
    form_key: str
    digest: str
    desk: _PaperDesk
    level: str
    answers: dict[str, str]
    comment: str | None
    occurred_at: datetime


@functools.lru_cache(maxsize=4096)
def _paper_time(day: date) -> datetime:
    """When a paper form dated `day` is stored: local noon, in UTC."""
    return datetime.combine(day, PAPER_TIME) - LOCAL_OFFSET


def _import_paper_rows(table, columns, result, today, progress, scope=None) -> list[uuid.UUID]:
    """Check every row; write the good ones in chunks while the file has no error so far.
    Return the ids of the new forms that have a comment.

    This is the import's hot path (goal: 20,000 rows/s, see bench/bench_import.py). Rows are
    plain tuples and dictionaries, each desk is looked up once, values are converted for the
    database a column at a time (`_Insert`), and each chunk is written on a second thread
    while the next one is read and checked (`_Writer`).
    """
    dialect = db.session.get_bind().dialect
    chunks = _PaperChunks(dialect)

    def written(outcome: _Written) -> None:
        result.created += outcome.created
        result.unchanged += outcome.unchanged
        for number in outcome.conflicts:
            result.add_error(
                number,
                "form_number",
                _(
                    "This form was already imported with other answers. Correct it in the dashboard, or give it a new form number."
                ),
            )

    pending: list[_PaperRow] = []
    size = CHUNK // 8  # small chunks first, so that the writer starts early, then CHUNK
    with _Writer(chunks.write, written) as writer:
        for row in _checked_paper_rows(table, columns, result, today, writer.wait, scope):
            pending.append(row)
            if len(pending) >= size:
                chunk = chunks.prepare(pending)
                writer.wait()
                if result.ok:
                    writer.submit(chunk)
                pending = []
                size = min(2 * size, CHUNK)
                _tick(table, progress)
        writer.wait()
        if pending and result.ok:
            writer.submit(chunks.prepare(pending))
    _tick(table, progress)
    return chunks.commented


def _checked_paper_rows(
    table, columns, result, today, before_query, scope=None
) -> Iterator[_PaperRow]:
    """The rows to write, while the file has no error; every row is checked to the end.

    `before_query` is called before the session is used (to look a desk up).
    """
    criteria_columns = [(name, index) for name, index in columns.items() if name not in FIXED_PAPER]
    desk_column, date_column, level_column = (columns[name] for name in PAPER_REQUIRED)
    comment_column = columns.get("comment")
    number_column = columns.get("form_number")
    desks: dict[str, _PaperDesk | None] = {}
    scales: dict[int, _Scale] = {}
    seen: dict[str, tuple[int, str]] = {}  # form key -> (row, content hash), within the file
    occurrences: dict[str, int] = {}
    error = result.add_error

    for number, cells in table.rows():
        result.rows += 1
        before = len(result.errors)
        code = cells[desk_column]
        desk = None
        if not code:
            error(number, "desk_code", _("The desk code is empty."))
        else:
            if code not in desks:
                before_query()
                desks[code] = _paper_desk(code, scales, scope)
            desk = desks[code]
            if desk is None:
                error(number, "desk_code", _("No desk has the code %(code)s.", code=code))
        raw_date = cells[date_column]
        day = parse_date(raw_date)
        if day is None:
            error(
                number,
                "date",
                _(
                    "%(value)s is not a date. Write YYYY-MM-DD or DD/MM/YYYY.",
                    value=raw_date or "∅",
                ),
            )
        elif not EARLIEST <= day <= today:
            error(
                number,
                "date",
                _("The date %(value)s is in the future or before 2000.", value=raw_date),
            )
        comment = cells[comment_column] if comment_column is not None else ""
        if len(comment) > COMMENT_MAX_LENGTH:
            error(
                number,
                "comment",
                _("The comment is longer than %(max)d characters.", max=COMMENT_MAX_LENGTH),
            )
        form_number = cells[number_column] if number_column is not None else ""
        if form_number and not FORM_NUMBER.match(form_number):
            error(
                number,
                "form_number",
                _(
                    "The form number may contain only letters, digits, dots, dashes and slashes (at most 60)."
                ),
            )
        level = None
        answers: dict[str, str] = {}
        if desk is not None:
            scale = desk.scale
            raw_level = cells[level_column]
            level = scale.level(raw_level) if raw_level else None
            if level is None:
                error(number, "level", _level_message(raw_level, scale))
            for name, index in criteria_columns:
                raw = cells[index]
                if not raw:
                    continue
                if name not in scale.criteria:
                    error(
                        number,
                        name,
                        _(
                            "The questionnaire of desk %(desk)s has no criterion %(criterion)s; leave this cell empty.",
                            desk=code,
                            criterion=name,
                        ),
                    )
                    continue
                answer = scale.level(raw)
                if answer is None:
                    error(number, name, _level_message(raw, scale))
                else:
                    answers[name] = answer
        if result.full:
            break
        if len(result.errors) > before:
            continue

        if form_number:
            form_key = paper_form_key(desk.id, form_number, "", 0)
        else:
            row_hash = _paper_row_hash(desk.id, day, level, comment, answers)
            occurrence = occurrences[row_hash] = occurrences.get(row_hash, 0) + 1
            form_key = paper_form_key(desk.id, None, row_hash, occurrence)
        occurred_at = _paper_time(day)
        # Like every channel, phone and ID numbers in comments are masked before storing.
        comment = mask_personal_numbers(comment) or None
        digest = content_digest(
            desk_id=desk.id,
            questionnaire_id=desk.questionnaire_id,
            channel=Channel.PAPER,
            level=level,
            answers=answers,
            comment=comment,
            dossier_code=None,
            client_time=occurred_at,
        )
        earlier = seen.get(form_key)
        if earlier is not None:
            if earlier[1] != digest:
                error(
                    number,
                    "form_number",
                    _(
                        "Form %(number)s of desk %(desk)s is also on row %(other)d, with other answers.",
                        number=form_number,
                        desk=code,
                        other=earlier[0],
                    ),
                )
            else:
                result.unchanged += 1
            continue
        seen[form_key] = (number, digest)
        if result.ok:  # after an error, keep checking the rest of the file but write nothing
            yield _PaperRow(number, form_key, digest, desk, level, answers, comment, occurred_at)


def _paper_row_hash(desk_id: int, day: date, level: str, comment: str, answers: dict) -> str:
    """A form without a number is known by its content (as written, before masking)."""
    content = "\x1f".join(
        [str(desk_id), day.isoformat(), level, comment]
        + [f"{k}={v}" for k, v in sorted(answers.items())]
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _time_ordered_ids() -> Iterator[uuid.UUID]:
    """Increasing version-7 UUIDs (RFC 9562): the time in milliseconds, then random bits, and a
    counter in the last 32 bits so that one import's ids keep increasing.

    Paper responses are found again by their form key, not by their id, so the id is free to
    follow insertion order: new rows then go to the right-hand end of the primary-key indexes
    of `response` and `answer`, instead of to random pages, which is most of the writing time
    on a large table.
    """
    milliseconds = time_module.time_ns() // 1_000_000
    prefix = (
        (milliseconds & (1 << 48) - 1) << 80
        | 0x7 << 76
        | secrets.randbits(12) << 64
        | 0b10 << 62
        | secrets.randbits(30) << 32
    )
    for counter in itertools.count():
        yield uuid.UUID(int=prefix | counter)


def _level_message(raw: str, scale: _Scale) -> str:
    return _(
        "Unknown level %(value)s. Use one of: %(allowed)s.",
        value=raw or "∅",
        allowed=", ".join(scale.codes),
    )


class _Insert:
    """An INSERT of `columns` into `table`, compiled once for the dialect, and its rows turned
    into driver parameters.

    Each value goes through its column type's bind processor, exactly as SQLAlchemy Core
    would, but a column at a time and each distinct value once (a file repeats the same dates,
    levels and booleans): that conversion is most of the time a Core executemany spends on
    100,000 rows.
    """

    def __init__(
        self,
        table: sa.Table,
        columns: tuple[str, ...],
        dialect: sa.Dialect,
        converted: tuple[str, ...] = (),
    ):
        """`converted` names columns whose values the caller converts itself (`convert`)."""
        compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(columns))
        self.sql = str(compiled)
        self.columns = columns
        self.order = list(compiled.positiontup) if compiled.positional else None
        self.processors = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in columns
        }
        self.converters = {name: self.processors.pop(name) or _same for name in converted}
        self.json_sql = self.copy_sql = None
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            # COPY, PostgreSQL's own bulk load, through psycopg's Copy object.
            self.copy_sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        elif dialect.name == "sqlite":
            # The whole chunk as one JSON array, unpacked by SQLite in C: one statement, and
            # the GIL is free for the reading thread all the while (see `_Writer`).
            order = self.order or list(columns)
            self.json_sql = "INSERT INTO {} ({}) SELECT {} FROM json_each(?)".format(
                table.name,
                ", ".join(order),
                ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(order))),
            )

    def params(self, rows: list[tuple]) -> list:
        if not rows:
            return []
        values = dict(zip(self.columns, zip(*rows, strict=True), strict=True))
        for name, process in self.processors.items():
            if process is None:
                continue
            column = values[name]
            sample = column[:256]
            # Convert each distinct value once when values repeat (dates, levels, booleans),
            # except ids: their conversion is as cheap as hashing them.
            if not isinstance(sample[0], uuid.UUID) and len(set(sample)) < len(sample):
                converted = {value: process(value) for value in set(column)}
                values[name] = list(map(converted.__getitem__, column))
            else:
                values[name] = list(map(process, column))  # bind processors pass None through
        if self.order is not None or self.copy_sql is not None:
            order = self.order or self.columns
            return list(zip(*(values[name] for name in order), strict=True))
        return [
            dict(zip(self.columns, row, strict=True))
            for row in zip(*(values[name] for name in self.columns), strict=True)
        ]

    def prepare(self, rows: list[tuple]) -> _Prepared:
        """Parameters for `execute`, and for SQLite already as JSON: made on the reading
        thread, so that the writer only waits for the database."""
        params = self.params(rows)
        return _Prepared(params, _json_rows(params) if self.json_sql and params else None)

    def execute(self, connection: sa.Connection, rows: _Prepared, keep=None) -> None:
        """Insert the rows, or with `keep` (booleans, one a row) those it selects."""
        params, blob = rows
        if keep is not None:
            params, blob = list(itertools.compress(params, keep)), None
        if not params:
            return
        if self.json_sql is not None:
            connection.exec_driver_sql(self.json_sql, (blob or _json_rows(params),))
        elif self.copy_sql is not None:
            with connection.connection.dbapi_connection.cursor() as cursor:
                with cursor.copy(self.copy_sql) as copy:
                    for row in params:
                        copy.write_row(row)
        else:
            connection.exec_driver_sql(self.sql, params)


def _same(value):
    return value


class _Prepared(NamedTuple):
    params: list
    blob: str | None  # the same rows as one JSON array, for SQLite's json_each


def _json_rows(params: list) -> str:
    return json.dumps(params, ensure_ascii=False)


class _Chunk(NamedTuple):
    """Rows ready to insert: `ids` are the responses' ids as the database takes them,
    `responses` and `answers` their parameters, and `answer_counts[i]` answers belong to
    `rows[i]` (in the one-row-an-answer form); `uuids` are the same ids as UUIDs."""

    rows: list[_PaperRow]
    ids: list
    uuids: list[uuid.UUID]
    responses: _Prepared
    answers: _Prepared
    answer_counts: list[int] | None


@dataclass
class _Written:
    """What writing a chunk did; `conflicts` are the rows of forms already imported with
    other answers (then nothing of the chunk is written)."""

    created: int = 0
    unchanged: int = 0
    conflicts: list[int] = field(default_factory=list)


class _PaperChunks:
    """Turns checked rows into `_Chunk`s (on the reading thread) and writes them (on the
    writer's), each side doing as little as it can."""

    RESPONSE_COLUMNS = (
        "id",
        "desk_id",
        "agency_id",
        "questionnaire_id",
        "channel",
        "level",
        "satisfied",
        "comment",
        "occurred_at",
        "received_at",
        "client_time",
        "status",
        "content_hash",
        "form_key",
    )
    ANSWER_COLUMNS = ("response_id", "criterion", "level", "satisfied")
    # On SQLite, a chunk's answers are one JSON object {response id: {criterion: [level,
    # satisfied]}}: the id and the criterion come out of json_each as keys, unparsed, and the
    # text is a third the size of one array an answer.
    SQLITE_ANSWERS = (
        "INSERT INTO answer (response_id, criterion, level, satisfied) "
        "SELECT r.key, a.key, json_extract(a.value, '$[0]'), json_extract(a.value, '$[1]') "
        "FROM json_each(?) AS r, json_each(r.value) AS a"
    )

    def __init__(self, dialect: sa.Dialect):
        # A response's id is converted once, for its row and its answers'.
        self.responses = _Insert(Response.__table__, self.RESPONSE_COLUMNS, dialect, ("id",))
        self.answers = _Insert(Answer.__table__, self.ANSWER_COLUMNS, dialect, ("response_id",))
        self.nested = self.answers.json_sql is not None
        self.convert_id = self.responses.converters["id"]
        self.ids = _time_ordered_ids()
        self.now = utcnow()
        self.commented: list[uuid.UUID] = []  # new forms with a comment, for their cases

    def prepare(self, rows: list[_PaperRow]) -> _Chunk:
        uuids = list(itertools.islice(self.ids, len(rows)))
        ids = list(map(self.convert_id, uuids))
        paper, valid, now = Channel.PAPER.value, Status.VALID.value, self.now
        responses = [
            (
                response_id,
                row.desk.id,
                row.desk.agency_id,
                row.desk.questionnaire_id,
                paper,
                row.level,
                row.level in row.desk.scale.satisfied,
                row.comment,
                row.occurred_at,
                now,
                row.occurred_at,
                valid,
                row.digest,
                row.form_key,
            )
            for row, response_id in zip(rows, ids, strict=True)
        ]
        if self.nested:
            nested = {}
            for row, response_id in zip(rows, ids, strict=True):
                if row.answers:
                    pairs = row.desk.scale.pairs
                    nested[response_id] = {c: pairs[level] for c, level in row.answers.items()}
            answers, counts = _Prepared(nested, _json_rows(nested)), None
        else:
            flat, counts = [], []
            for row, response_id in zip(rows, ids, strict=True):
                chosen, satisfied = row.answers, row.desk.scale.satisfied
                counts.append(len(chosen))
                flat.extend(
                    (response_id, criterion, level, level in satisfied)
                    for criterion, level in chosen.items()
                )
            answers = self.answers.prepare(flat)
        return _Chunk(rows, ids, uuids, self.responses.prepare(responses), answers, counts)

    def write(self, chunk: _Chunk) -> _Written:
        """Insert a chunk: skip forms already stored with the same content, refuse changed
        ones."""
        outcome = _Written()
        stored = self._stored([row.form_key for row in chunk.rows])
        keep = None
        if stored:  # a file imported before, in whole or in part
            keep = []
            for row in chunk.rows:
                digest = stored.get(row.form_key)
                keep.append(digest is None)
                if digest is None:
                    continue
                if digest == row.digest:
                    outcome.unchanged += 1
                else:
                    outcome.conflicts.append(row.number)
            if outcome.conflicts:
                return outcome
        connection = db.session.connection()
        self.responses.execute(connection, chunk.responses, keep)
        self._write_answers(connection, chunk, keep)
        outcome.created = len(chunk.rows) - len(stored)
        self.commented.extend(
            response_id
            for row, response_id, kept in zip(
                chunk.rows, chunk.uuids, keep or itertools.repeat(True), strict=False
            )
            if kept and row.comment
        )
        return outcome

    def _write_answers(self, connection: sa.Connection, chunk: _Chunk, keep) -> None:
        if not self.nested:
            if keep is not None:
                keep = list(
                    itertools.chain.from_iterable(
                        itertools.repeat(flag, count)
                        for flag, count in zip(keep, chunk.answer_counts, strict=True)
                    )
                )
            self.answers.execute(connection, chunk.answers, keep)
            return
        nested, blob = chunk.answers
        if keep is not None:
            kept = set(itertools.compress(chunk.ids, keep))
            nested = {key: value for key, value in nested.items() if key in kept}
            blob = _json_rows(nested)
        if nested:
            connection.exec_driver_sql(self.SQLITE_ANSWERS, (blob,))

    def _stored(self, keys: list[str]) -> dict[str, str]:
        """Form key -> content hash of the forms among `keys` already in the database."""
        if self.responses.json_sql is None:
            query = sa.select(Response.form_key, Response.content_hash).where(
                Response.form_key.in_(keys)
            )
            return dict(db.session.execute(query).all())
        # SQLite: the keys in and the answer out as one JSON value each, so that the database
        # works with the GIL released instead of stepping once a row.
        listed = sa.select(sa.column("value")).select_from(
            sa.func.json_each(_json_rows(keys)).table_valued("value")
        )
        query = sa.select(
            sa.func.json_group_object(Response.form_key, Response.content_hash)
        ).where(Response.form_key.in_(listed))
        return json.loads(db.session.scalar(query))


# The paper template's headings in Vietnamese (each is one of PAPER_COLUMNS' spellings); the
# English codes stay accepted and are the English template's.
PAPER_HEADINGS_VI = {
    "desk_code": "mã quầy",
    "date": "ngày đánh giá",
    "level": "mức độ hài lòng",
    "comment": "ý kiến",
    "form_number": "số phiếu",
}


def paper_template(fmt: str, questionnaire: Questionnaire, vietnamese: bool = True) -> bytes:
    """An empty paper-form file with the columns for `questionnaire`'s criteria, headed in
    Vietnamese (or with the English codes); criteria are headed by their codes."""
    names = PAPER_HEADINGS_VI if vietnamese else {}
    fixed = [names.get(code, code) for code in ("desk_code", "date", "level")]
    tail = [names.get(code, code) for code in ("comment", "form_number")]
    header = [*fixed, *questionnaire.criterion_codes(), *tail]
    return write_table(fmt, header, [], sheet=_("Paper forms"))
