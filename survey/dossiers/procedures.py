"""The procedure list of each province (code, name, field), imported from a file, and the
province an agency's dossiers take their procedure names from."""

from __future__ import annotations

import re
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.extensions import db
from survey.imports import ImportResult, Progress, Table, by_name, each_row, run
from survey.models import Agency, Level, Procedure, utcnow

# National procedure codes look like 1.004227 or 2.000123; provinces also use local codes
# (e.g. 1.004227.000.00.00.H12), so any short code of letters, digits, dots and dashes.
PROCEDURE_CODE = re.compile(r"^[\w.\-]{1,40}$")


def bad_procedure_code(code: str) -> str:
    """What is wrong with a code that does not match PROCEDURE_CODE, for a row error."""
    return _(
        "The procedure code %(code)s may contain only letters without diacritics, digits, dots and dashes (at most 40), e.g. 1.004227.",
        code=code,
    )


PROCEDURE_COLUMNS = {
    "code": "code",
    "mã": "code",
    "mã thủ tục": "code",
    "name": "name",
    "tên": "name",
    "tên thủ tục": "name",
    "field": "field",
    "lĩnh vực": "field",
    "name_en": "name_en",
    "tên tiếng anh": "name_en",
}
PROCEDURE_REQUIRED = ("code", "name", "field")
PROCEDURE_HEADER = ["code", "name", "field", "name_en"]


def province_of(agency: Agency) -> Agency:
    """The agency's province: the nearest ancestor (or itself) at province level, else the
    root of its tree."""
    node = agency
    while node.level != Level.PROVINCE and node.parent is not None:
        node = node.parent
    return node


def procedure_names(province_id: int) -> dict[str, Procedure]:
    return {
        p.code: p
        for p in db.session.scalars(
            sa.select(Procedure).where(Procedure.province_id == province_id)
        )
    }


def import_procedures(
    stream: BinaryIO,
    *,
    province: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update the procedures of a province (columns code, name, field, name_en) by
    code. `province` is the province's agency code; without it, the only province there is."""
    result = ImportResult()

    def work(table: Table) -> None:
        target = _province(province, result)
        columns = table.columns(PROCEDURE_COLUMNS, PROCEDURE_REQUIRED)
        rows: dict[str, tuple[int, str, str | None, str | None]] = {}
        for number, cells in each_row(table, result, progress):
            cell = by_name(cells, columns)
            before = len(result.errors)
            code, name, field_name, name_en = (
                cell("code"),
                cell("name"),
                cell("field"),
                cell("name_en"),
            )
            if not code:
                result.add_error(number, "code", _("The code is empty."))
            elif not PROCEDURE_CODE.match(code):
                result.add_error(number, "code", bad_procedure_code(code))
            elif code in rows:
                result.add_error(
                    number,
                    "code",
                    _(
                        "The code %(code)s is already used on row %(other)d.",
                        code=code,
                        other=rows[code][0],
                    ),
                )
            if not name:
                result.add_error(number, "name", _("The name is empty."))
            elif len(name) > 500:
                result.add_error(number, "name", _("The name is longer than 500 characters."))
            if not field_name:
                result.add_error(number, "field", _("The field (lĩnh vực) is empty."))
            elif len(field_name) > 200:
                result.add_error(number, "field", _("The field is longer than 200 characters."))
            if len(name_en) > 500:
                result.add_error(number, "name_en", _("The name is longer than 500 characters."))
            if len(result.errors) == before and not result.truncated:
                rows[code] = (number, name, field_name, name_en or None)
        if not result.ok or target is None:
            return
        existing = procedure_names(target.id)
        now = utcnow()
        for code, (_number, name, field_name, name_en) in rows.items():
            old = existing.get(code)
            if old is None:
                db.session.add(
                    Procedure(
                        province_id=target.id,
                        code=code,
                        name=name,
                        field=field_name,
                        name_en=name_en,
                        created_at=now,
                    )
                )
                result.created += 1
            elif (old.name, old.field, old.name_en) == (name, field_name, name_en):
                result.unchanged += 1
            else:
                old.name, old.field, old.name_en = name, field_name, name_en
                result.updated += 1
        db.session.flush()

    return run(lambda: Table(stream), work, result, dry_run)


def provinces() -> list[Agency]:
    return list(
        db.session.scalars(
            sa.select(Agency).where(Agency.level == Level.PROVINCE).order_by(Agency.code)
        )
    )


def _province(code: str | None, result: ImportResult) -> Agency | None:
    if code:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == code))
        if agency is None or agency.level != Level.PROVINCE:
            result.add_error(None, None, _("No province has the code %(code)s.", code=code))
            return None
        return agency
    found = provinces()
    if len(found) != 1:
        result.add_error(
            None,
            None,
            _("Choose the province the procedure list belongs to.")
            if found
            else _("There is no province in the agency tree yet: import the tree first."),
        )
        return None
    return found[0]
