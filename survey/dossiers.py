"""Dossiers behind one-time tickets: bulk import of dossiers (create or update tickets, e.g.
the date the result was returned), the procedure list of each province, and whether a
rating came before the result was returned.

Both imports follow `survey.imports`: streamed CSV/XLSX, every row checked, all or nothing,
errors named by row and column, and importing the same file again changes nothing.
"""

from __future__ import annotations

import base64
import calendar
import functools
import hmac
import operator
import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey.extensions import db
from survey.fields import DOSSIER_CODE  # the one rule for every channel
from survey.imports import (
    EARLIEST,
    ImportResult,
    Progress,
    Table,
    parse_date,
    run,
    tick,
    update_by_id,
)
from survey.imports.bulk import gc_paused, sqlite_cache
from survey.models import Agency, Desk, Level, Procedure, Ticket, utcnow
from survey.periods import LOCAL_OFFSET
from survey.security import hash_token

# National procedure codes look like 1.004227 or 2.000123; provinces also use local codes
# (e.g. 1.004227.000.00.00.H12), so any short code of letters, digits, dots and dashes.
PROCEDURE_CODE = re.compile(r"^[\w.\-]{1,40}$")

DOSSIER_COLUMNS = {
    "desk_code": "desk_code",
    "desk": "desk_code",
    "mã quầy": "desk_code",
    "mã bàn": "desk_code",
    "dossier_code": "dossier_code",
    "dossier": "dossier_code",
    "mã hồ sơ": "dossier_code",
    "số hồ sơ": "dossier_code",
    "procedure": "procedure",
    "procedure_code": "procedure",
    "mã thủ tục": "procedure",
    "thủ tục": "procedure",
    "due_date": "due_date",
    "hạn trả": "due_date",
    "ngày hẹn trả": "due_date",
    "returned_date": "returned_date",
    "ngày trả": "returned_date",
    "ngày trả kết quả": "returned_date",
}
DOSSIER_REQUIRED = ("desk_code", "dossier_code")
DOSSIER_HEADER = ["desk_code", "dossier_code", "procedure", "due_date", "returned_date"]

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


# ---- before return ---------------------------------------------------------------------------


def local_day(moment: datetime) -> date:
    """The date in Vietnam (UTC+7) of a UTC moment."""
    return (moment + LOCAL_OFFSET).date()


def rated_before_return(occurred_at: datetime, returned_date: date | None) -> bool:
    """A rating through a ticket is "before return" when the result had not been returned on
    the (local) day it was given: no return date yet, or a later one. A rating on the day of
    return counts as after it (the citizen usually rates at the desk when collecting it)."""
    return returned_date is None or local_day(occurred_at) < returned_date


def before_return_clause(response_table, ticket_table):
    """SQL for `rated_before_return` over a response joined to its ticket (by ticket_id).

    Compared in UTC: the rating's local day is before the return date exactly when
    occurred_at (UTC) is before local midnight of that date, i.e. returned_date - 7 h."""
    midnight = sa.func.datetime(ticket_table.c.returned_date, "-7 hours")
    if db.engine.dialect.name == "postgresql":
        midnight = sa.cast(ticket_table.c.returned_date, sa.DateTime) - sa.text(
            "interval '7 hours'"
        )
    return sa.or_(ticket_table.c.returned_date.is_(None), response_table.c.occurred_at < midnight)


# ---- provinces and procedures ----------------------------------------------------------------


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
        for number, cells in table.rows():
            result.rows += 1

            def cell(name, cells=cells):
                index = columns.get(name)
                return cells[index] if index is not None and index < len(cells) else ""

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
                result.add_error(
                    number,
                    "code",
                    _(
                        "The procedure code %(code)s may contain only letters without diacritics, digits, dots and dashes (at most 40), e.g. 1.004227.",
                        code=code,
                    ),
                )
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
            if result.rows % 1000 == 0:
                tick(table, progress)
            if result.full:
                break
        tick(table, progress)
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


# ---- dossiers --------------------------------------------------------------------------------


@dataclass
class _DossierRow:
    row: int
    desk_id: int
    dossier_code: str
    procedure: str | None
    due_date: date | None
    returned_date: date | None


def import_dossiers(
    stream: BinaryIO,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    agency_ids: set[int] | None = None,
) -> ImportResult:
    """Create or update the tickets of dossiers by (desk, dossier code), like POST
    /api/v1/tickets for every row: columns desk_code, dossier_code and optionally procedure
    (code), due_date and returned_date. An empty cell leaves the stored value as it is.
    `agency_ids` limits the desks a user may name (None: all). All or nothing."""
    result = ImportResult()

    def work(table: Table) -> None:
        # Garbage collection off and a larger SQLite page cache while the file is read and
        # written, as for paper forms (survey.imports.bulk).
        with gc_paused(), sqlite_cache(db.session.connection()):
            read_and_write(table)

    def read_and_write(table: Table) -> None:
        columns = table.columns(DOSSIER_COLUMNS, DOSSIER_REQUIRED)
        desks = {
            row.code: row
            for row in db.session.execute(
                sa.select(Desk.id, Desk.code, Desk.agency_id, Desk.active)
            )
        }
        today = local_day(utcnow())
        latest = today + timedelta(days=1)
        seen: dict[tuple[int, str], int] = {}
        rows: list[_DossierRow] = []
        # Rows come padded to the header's width; an absent optional column reads as empty.
        pick = [columns.get(name) for name in DOSSIER_HEADER]
        if None in pick:

            def fields(cells):
                return tuple(cells[i] if i is not None else "" for i in pick)

        else:
            fields = operator.itemgetter(*pick)
        parse = _date_parser()
        for number, cells in table.rows():
            result.rows += 1
            before = len(result.errors)
            desk_code, dossier, procedure, due_raw, returned_raw = fields(cells)
            desk = desks.get(desk_code)
            if desk is None:
                result.add_error(
                    number,
                    "desk_code",
                    _("No desk has the code %(code)s.", code=desk_code or "∅"),
                )
            elif agency_ids is not None and desk.agency_id not in agency_ids:
                result.add_error(
                    number,
                    "desk_code",
                    _("You may not import dossiers for the desk %(code)s.", code=desk.code),
                )
            if not DOSSIER_CODE.match(dossier):
                result.add_error(
                    number,
                    "dossier_code",
                    _(
                        "The dossier code %(code)s may contain only letters, digits, dots, dashes, slashes and underscores (at most 64).",
                        code=dossier,
                    )
                    if dossier
                    else _("The dossier code is empty."),
                )
            procedure = procedure or None
            if procedure is not None and not PROCEDURE_CODE.match(procedure):
                result.add_error(
                    number,
                    "procedure",
                    _(
                        "The procedure code %(code)s may contain only letters without diacritics, digits, dots and dashes (at most 40), e.g. 1.004227.",
                        code=procedure,
                    ),
                )
            due = parse(due_raw) if due_raw else None
            if due_raw and (due is None or due < EARLIEST):
                result.add_error(
                    number,
                    "due_date",
                    _("%(value)s is not a date (YYYY-MM-DD or DD/MM/YYYY).", value=due_raw),
                )
            returned = parse(returned_raw) if returned_raw else None
            if returned_raw and (returned is None or returned < EARLIEST):
                result.add_error(
                    number,
                    "returned_date",
                    _("%(value)s is not a date (YYYY-MM-DD or DD/MM/YYYY).", value=returned_raw),
                )
            elif returned is not None and returned > latest:
                result.add_error(
                    number,
                    "returned_date",
                    _("The return date %(value)s is in the future.", value=returned_raw),
                )
            if desk is not None and dossier:
                key = (desk.id, dossier)
                if key in seen:
                    result.add_error(
                        number,
                        "dossier_code",
                        _(
                            "The dossier %(code)s of this desk is already on row %(other)d.",
                            code=dossier,
                            other=seen[key],
                        ),
                    )
                else:
                    seen[key] = number
            if len(result.errors) == before and not result.truncated:
                rows.append(_DossierRow(number, desk.id, dossier, procedure, due, returned))
            if result.rows % 5000 == 0:
                tick(table, progress)
            if result.full:
                break
        tick(table, progress)
        if result.ok:
            _write_dossiers(rows, result)

    return run(lambda: Table(stream), work, result, dry_run)


def _date_parser():
    """`parse_date`, remembering the few hundred dates a file repeats."""
    return functools.lru_cache(maxsize=4096)(parse_date)


def _write_dossiers(rows: list[_DossierRow], result: ImportResult) -> None:
    table = Ticket.__table__
    desk_ids = sorted({row.desk_id for row in rows})
    existing = {}
    for start in range(0, len(desk_ids), 500):
        for ticket in db.session.execute(
            sa.select(
                table.c.id,
                table.c.desk_id,
                table.c.dossier_code,
                table.c.procedure,
                table.c.due_date,
                table.c.returned_date,
                table.c.used_at,
                table.c.expires_at,
            ).where(table.c.desk_id.in_(desk_ids[start : start + 500]))
        ):
            existing[(ticket.desk_id, ticket.dossier_code)] = ticket
    now = utcnow().replace(microsecond=0)
    expires = now + timedelta(days=current_app.config["TICKET_TTL_DAYS"])
    new, updates = [], []
    for row in rows:
        old = existing.get((row.desk_id, row.dossier_code))
        if old is None:
            new.append(row)
            continue
        values = (
            row.procedure if row.procedure is not None else old.procedure,
            row.due_date if row.due_date is not None else old.due_date,
            row.returned_date if row.returned_date is not None else old.returned_date,
        )
        if (old.procedure, old.due_date, old.returned_date) == values:
            result.unchanged += 1
            continue
        result.updated += 1
        # As the API does: a ticket still unused stays valid for TICKET_TTL_DAYS after a change.
        renewed = max(old.expires_at, expires) if old.used_at is None else old.expires_at
        updates.append(
            {
                "b_id": old.id,
                "b_expires": renewed,
                "procedure": values[0],
                "due_date": values[1],
                "returned_date": values[2],
            }
        )
    if new:
        _insert_tickets(new, now, expires)
    result.created = len(new)
    update_by_id(
        table,
        updates,
        {
            "procedure": "procedure",
            "due_date": "due_date",
            "returned_date": "returned_date",
            "expires_at": "b_expires",
        },
    )
    db.session.expire_all()


def _insert_tickets(rows: list[_DossierRow], now: datetime, expires: datetime) -> None:
    """Insert new tickets with their final token digests in one pass.

    A ticket's token is derived from its id, so the ids are taken first: on PostgreSQL from
    the sequence; on SQLite the first row is inserted alone and the others follow its id,
    which is safe because the transaction now holds SQLite's single write lock.

    The rows go to the driver's executemany as plain tuples, each value converted once by
    its column type's bind processor (dates repeat: converted once each), not through
    SQLAlchemy's per-row parameter processing (a sixth of the time)."""
    table = Ticket.__table__
    ids = _reserve_ids(len(rows), rows[0], now, expires)
    tokens = _TokenMaker(calendar.timegm(now.utctimetuple()))
    connection = db.session.connection()
    dialect = connection.dialect
    names = [
        "id",
        "token_hash",
        "dossier_code",
        "desk_id",
        "procedure",
        "due_date",
        "returned_date",
        "created_at",
        "expires_at",
    ]
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=names)

    def converter(name):
        # The dialect's own type (on SQLite, the string format SQLAlchemy stores dates in).
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        return functools.lru_cache(maxsize=4096)(process) if process else (lambda value: value)

    day = converter("due_date")
    created = converter("created_at")(now)
    expiry = converter("expires_at")(expires)
    values = [
        (
            ticket_id,
            tokens.digest(ticket_id),
            row.dossier_code,
            row.desk_id,
            row.procedure,
            None if row.due_date is None else day(row.due_date),
            None if row.returned_date is None else day(row.returned_date),
            created,
            expiry,
        )
        for ticket_id, row in zip(ids, rows, strict=True)
    ]
    if dialect.name == "sqlite":
        first = values.pop(0)
        db.session.execute(
            sa.update(table).where(table.c.id == first[0]).values(token_hash=first[1])
        )
    if dialect.positional:
        order = [names.index(key) for key in compiled.positiontup]
        params = (
            [tuple(v[i] for i in order) for v in values]
            if order != list(range(len(names)))
            else values
        )
    else:
        params = [dict(zip(names, v, strict=True)) for v in values]
    if params:
        connection.exec_driver_sql(str(compiled), params)


def _reserve_ids(count: int, first: _DossierRow, now: datetime, expires: datetime) -> list[int]:
    table = Ticket.__table__
    if db.engine.dialect.name == "postgresql":
        return list(
            db.session.scalars(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence('ticket', 'id')) "
                    "FROM generate_series(1, :n) ORDER BY 1"
                ),
                {"n": count},
            )
        )
    first_id = db.session.execute(
        sa.insert(table)
        .values(
            token_hash="pending-" + secrets.token_hex(16),
            dossier_code=first.dossier_code,
            desk_id=first.desk_id,
            procedure=first.procedure,
            due_date=first.due_date,
            returned_date=first.returned_date,
            created_at=now,
            expires_at=expires,
        )
        .returning(table.c.id)
    ).scalar_one()
    return list(range(first_id, first_id + count))


def _compressed_length(text: bytes) -> int:
    """len(zlib.compress(text)), which itsdangerous compares with the text's length to decide
    whether to compress, at a fraction of its cost for short texts: the smallest window and
    hash table instead of zlib's 256 KiB of state, cleared on every call. For a text shorter
    than the 512-byte window the deflate stream has the same length (the same matches and
    the same block choice; a test compares the two over ids and stamps that compress)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 9, 1)
    return len(compressor.compress(text)) + len(compressor.flush())


class _TokenMaker:
    """`ticket_token` for many ids at once: the same bytes as itsdangerous'
    URLSafeSerializer.dumps([id, stamp]) (a test checks it), with the key derived once."""

    def __init__(self, stamp: int):
        from survey.tickets.service import _serializer

        serializer = _serializer()
        self.stamp = stamp
        self.serializer = serializer
        signer = serializer.make_signer(serializer.salt)
        self.key = signer.derive_key()
        self.digest_name = signer.digest_method().name  # sha1 for itsdangerous' default
        self.sep = signer.sep.encode() if isinstance(signer.sep, str) else signer.sep

    def token(self, ticket_id: int) -> str:
        text = f"[{ticket_id},{self.stamp}]".encode()
        if _compressed_length(text) < len(text) - 1:  # rare for so short a text, but exact
            return self.serializer.dumps([ticket_id, self.stamp])
        payload = base64.urlsafe_b64encode(text).rstrip(b"=")
        mac = hmac.digest(self.key, payload, self.digest_name)
        return (payload + self.sep + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()

    def digest(self, ticket_id: int) -> str:
        return hash_token(self.token(ticket_id))
