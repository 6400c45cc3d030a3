"""The agency tree in and out: import by code (parents may come later in the file), export
parents first."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.extensions import db
from survey.imports.bulk import CHUNK, update_by_id
from survey.imports.results import ImportResult, Progress, each_row, run
from survey.imports.table import Table, by_name
from survey.models import Agency, Kind, Level, utcnow
from survey.spreadsheets import write_table

CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")

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
        for number, cells in each_row(table, result, progress):
            parsed = _parse_agency(number, by_name(cells, columns), result)
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

    return run(lambda: Table(stream), work, result, dry_run)


def _parse_agency(number: int, cell: Callable[[str], str], result) -> _AgencyRow | None:
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
