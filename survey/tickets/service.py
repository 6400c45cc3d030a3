"""Issuing, finding and using one-time dossier tickets.

A ticket's token is signed (so a forged one is refused without touching the database) and is
derived from the ticket's id and issue time, so that asking again for the same dossier gives
back the same URL, which may already be printed on the receipt. Only its SHA-256 digest is
stored. Changing SECRET_KEY invalidates every ticket, as it does desk QR codes.
"""

from __future__ import annotations

import base64
import calendar
import io
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import segno
import sqlalchemy as sa
from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from survey.extensions import db
from survey.models import Desk, Ticket, utcnow
from survey.security import hash_token

SALT = "hailong.ticket"
MAX_TOKEN_LENGTH = 200


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def ticket_token(ticket: Ticket) -> str:
    return _serializer().dumps([ticket.id, calendar.timegm(ticket.created_at.utctimetuple())])


def ticket_for_token(token: str) -> Ticket | None:
    """The ticket a token names, or None when the token is malformed, forged or unknown."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return None
    ticket = db.session.scalar(sa.select(Ticket).where(Ticket.token_hash == hash_token(token)))
    return ticket if ticket is not None and ticket.id == value[0] else None


def ticket_url(ticket: Ticket) -> str:
    """The citizen's URL for a ticket, on PUBLIC_BASE_URL when that is configured."""
    path = url_for("tickets.survey", token=ticket_token(ticket))
    base = current_app.config.get("PUBLIC_BASE_URL")
    return (
        base + path
        if base
        else url_for("tickets.survey", token=ticket_token(ticket), _external=True)
    )


def qr_svg(url: str) -> str:
    """A standalone SVG document (no XML declaration) of the URL's QR code."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=4, xmldecl=False)
    return out.getvalue().decode()


def qr_png_data_uri(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=4)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@dataclass(frozen=True)
class TicketRequest:
    desk: Desk
    dossier_code: str
    procedure: str | None = None
    due_date: date | None = None
    returned_date: date | None = None
    api_key_id: int | None = None


def expiry(now: datetime) -> datetime:
    return now + timedelta(days=current_app.config["TICKET_TTL_DAYS"])


def issue(request: TicketRequest) -> tuple[Ticket, bool]:
    """Create the ticket for (desk, dossier), or update the one that exists; commit.

    Return (ticket, created). Asking again updates the procedure and dates that are given and,
    while the ticket is unused, renews its expiry (e.g. when the result is returned).
    """
    existing = _find(request.desk.id, request.dossier_code)
    if existing is not None:
        return _update(existing, request), False
    now = utcnow().replace(microsecond=0)
    ticket = Ticket(
        # A unique placeholder until the id, which the token is derived from, is known.
        token_hash="pending-" + secrets.token_hex(16),
        dossier_code=request.dossier_code,
        desk_id=request.desk.id,
        procedure=request.procedure,
        due_date=request.due_date,
        returned_date=request.returned_date,
        created_at=now,
        expires_at=expiry(now),
        api_key_id=request.api_key_id,
    )
    db.session.add(ticket)
    try:
        db.session.flush()
        ticket.token_hash = hash_token(ticket_token(ticket))
        db.session.commit()
    except IntegrityError:
        # A concurrent request for the same dossier won the race: update what it stored.
        db.session.rollback()
        existing = _find(request.desk.id, request.dossier_code)
        if existing is None:
            raise
        return _update(existing, request), False
    return ticket, True


def _find(desk_id: int, dossier_code: str) -> Ticket | None:
    return db.session.scalar(
        sa.select(Ticket).where(Ticket.desk_id == desk_id, Ticket.dossier_code == dossier_code)
    )


def _update(ticket: Ticket, request: TicketRequest) -> Ticket:
    for name in ("procedure", "due_date", "returned_date"):
        value = getattr(request, name)
        if value is not None:
            setattr(ticket, name, value)
    if ticket.used_at is None:
        ticket.expires_at = max(ticket.expires_at, expiry(utcnow().replace(microsecond=0)))
    db.session.commit()
    return ticket


def is_expired(ticket: Ticket, now: datetime | None = None) -> bool:
    return ticket.expires_at <= (now or utcnow())


def claim(ticket: Ticket) -> bool:
    """Mark the ticket used, atomically, in the current transaction (the caller commits it
    with the response). False when it was already used or has expired."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.used_at.is_(None), Ticket.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
