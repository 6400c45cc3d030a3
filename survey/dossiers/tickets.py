"""The dossier import: one row per dossier (desk, dossier code, and optionally procedure,
due date and return date) creates or updates its ticket, like POST /api/v1/tickets, for
100,000 rows in seconds (docs/performance.md): rows checked in one pass, new tickets inserted
with their token digests in one statement, changed ones updated by id."""

from __future__ import annotations

import calendar
import functools
import operator
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from survey.dossiers.procedures import PROCEDURE_CODE, bad_procedure_code
from survey.dossiers.returns import local_day
from survey.dossiers.tokens import TokenMaker
from survey.extensions import db
from survey.fields import DOSSIER_CODE  # the one rule for every channel
from survey.imports import (
    EARLIEST,
    ImportResult,
    Progress,
    Table,
    each_row,
    parse_date,
    run,
    update_by_id,
)
from survey.imports.bulk import gc_paused, sqlite_cache
from survey.models import Desk, Ticket, utcnow

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

        def day(number: int, column: str, raw: str) -> date | None:
            """The date in a cell, None when it is empty or is no date (an error then)."""
            value = parse(raw) if raw else None
            if raw and (value is None or value < EARLIEST):
                result.add_error(
                    number,
                    column,
                    _("%(value)s is not a date (YYYY-MM-DD or DD/MM/YYYY).", value=raw),
                )
                return None
            return value

        for number, cells in each_row(table, result, progress, every=5000):
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
                result.add_error(number, "procedure", bad_procedure_code(procedure))
            due = day(number, "due_date", due_raw)
            returned = day(number, "returned_date", returned_raw)
            if returned is not None and returned > latest:
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
    tokens = TokenMaker(calendar.timegm(now.utctimetuple()))
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
