"""POST /api/v1/tickets: a one-time survey ticket for a dossier, with its QR code."""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from flask import g, jsonify
from flask_babel import gettext as _

from survey.api import bp, openapi
from survey.api.auth import json_body, require
from survey.errors import ApiError
from survey.extensions import db
from survey.fields import DOSSIER_CODE, DOSSIER_CODE_MESSAGE, DOSSIER_CODE_SCHEMA
from survey.models import Agency, Desk, Ticket
from survey.payloads import date_field, field, reject_unknown
from survey.scope import visible_agency_ids
from survey.tickets.service import TicketRequest, issue, qr_png_data_uri, qr_svg, ticket_url

FIELDS = {"dossier_code", "desk", "agency", "procedure", "due_date", "returned_date"}


@bp.post("/tickets")
@require(scope="tickets:write")
def create_ticket():
    data = json_body()
    reject_unknown(data, FIELDS)
    dossier_code = field(data, "dossier_code", str, max_length=64)
    if not DOSSIER_CODE.match(dossier_code):
        raise ApiError(400, str(DOSSIER_CODE_MESSAGE), field="dossier_code")
    desk = _desk(data)
    procedure = (field(data, "procedure", str, required=False, max_length=300) or "").strip()
    ticket, created = issue(
        TicketRequest(
            desk=desk,
            dossier_code=dossier_code,
            procedure=procedure or None,
            due_date=date_field(data, "due_date"),
            returned_date=date_field(data, "returned_date"),
            api_key_id=g.api_client.id,
        )
    )
    return jsonify(ticket_body(ticket, created)), 201 if created else 200


def ticket_body(ticket: Ticket, created: bool) -> dict:
    url = ticket_url(ticket)
    return {
        "id": ticket.id,
        "status": "created" if created else "existing",
        "dossier_code": ticket.dossier_code,
        "desk": ticket.desk.code,
        "agency": ticket.desk.agency.code,
        "procedure": ticket.procedure,
        "due_date": ticket.due_date.isoformat() if ticket.due_date else None,
        "returned_date": ticket.returned_date.isoformat() if ticket.returned_date else None,
        "url": url,
        "expires_at": ticket.expires_at.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"),
        "used": ticket.used_at is not None,
        "qr": {"svg": qr_svg(url), "png": qr_png_data_uri(url)},
    }


def _desk(data: dict) -> Desk:
    """The desk named by `desk`, or the first active desk (by code) of the agency `agency`."""
    desk_code = field(data, "desk", str, required=False, max_length=40)
    agency_code = field(data, "agency", str, required=False, max_length=40)
    if (desk_code is None) == (agency_code is None):
        raise ApiError(400, _("Give exactly one of desk and agency."), field="desk")
    scope = visible_agency_ids(g.api_client.agency_id)
    if desk_code is not None:
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == desk_code))
        if desk is None:
            raise ApiError(422, _("Unknown desk code %(code)s.", code=desk_code), field="desk")
        if scope is not None and desk.agency_id not in scope:
            raise ApiError(
                403, _("This API key may not issue tickets for this desk."), field="desk"
            )
        if not desk.active or not desk.agency.active:
            raise ApiError(422, _("This desk no longer takes ratings."), field="desk")
        return desk
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise ApiError(422, _("Unknown agency code %(code)s.", code=agency_code), field="agency")
    if scope is not None and agency.id not in scope:
        raise ApiError(
            403, _("This API key may not issue tickets for this agency."), field="agency"
        )
    desk = db.session.scalar(
        sa.select(Desk).where(Desk.agency_id == agency.id, Desk.active).order_by(Desk.code).limit(1)
    )
    if desk is None or not agency.active:
        raise ApiError(422, _("This agency has no desk that takes ratings."), field="agency")
    return desk


openapi.PATHS["/tickets"] = {
    "post": {
        "summary": "Issue (or fetch) the one-time survey ticket of a dossier",
        "description": "Idempotent on (desk, dossier_code): asking again returns the same URL, "
        "updates the procedure and dates that are given and, while the ticket is unused, renews "
        "its expiry (TICKET_TTL_DAYS, 30 by default). With `agency` instead of `desk`, the "
        "ticket goes to the agency's first active desk by code.",
        "operationId": "createTicket",
        "tags": ["tickets"],
        "security": [{"bearer": []}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TicketIn"}}},
        },
        "responses": {
            "201": {
                "description": "Issued",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}
                },
            },
            "200": {
                "description": "This dossier already had a ticket at this desk: the same one",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}
                },
            },
            **{
                code: {"$ref": "#/components/responses/Problem"}
                for code in ("400", "401", "403", "415", "422")
            },
        },
    }
}
openapi.SCHEMAS["TicketIn"] = {
    "type": "object",
    "required": ["dossier_code"],
    "additionalProperties": False,
    "description": "Give exactly one of desk and agency (else 400). No field may be null: "
    "leave an optional field out instead.",
    "oneOf": [
        {"required": ["desk"], "not": {"required": ["agency"]}},
        {"required": ["agency"], "not": {"required": ["desk"]}},
    ],
    "properties": {
        "dossier_code": DOSSIER_CODE_SCHEMA,
        "desk": {
            "type": "string",
            "maxLength": 40,
            "example": "SYT-01",
            "description": "Desk code; an unknown or inactive desk is a 422.",
        },
        "agency": {
            "type": "string",
            "maxLength": 40,
            "description": "Agency code; the ticket goes to its first active desk by code. An "
            "unknown agency, or one without an active desk, is a 422.",
        },
        "procedure": {
            "type": "string",
            "maxLength": 300,
            "description": "The procedure's code in the national database of administrative procedures (e.g. 1.004227); its name and field (lĩnh vực) come from the province's procedure list.",
        },
        "due_date": {"type": "string", "format": "date", "description": "Appointed return date."},
        "returned_date": {"type": "string", "format": "date", "description": "Actual return date."},
    },
}
openapi.SCHEMAS["Ticket"] = {
    "type": "object",
    "required": ["id", "status", "dossier_code", "desk", "url", "expires_at", "used", "qr"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["created", "existing"]},
        "dossier_code": {"type": "string"},
        "desk": {"type": "string"},
        "agency": {"type": "string"},
        "procedure": {"type": "string", "nullable": True},
        "due_date": {"type": "string", "format": "date", "nullable": True},
        "returned_date": {"type": "string", "format": "date", "nullable": True},
        "url": {"type": "string", "format": "uri", "description": "The citizen's survey link."},
        "expires_at": {"type": "string", "format": "date-time"},
        "used": {"type": "boolean"},
        "qr": {
            "type": "object",
            "required": ["svg", "png"],
            "properties": {
                "svg": {"type": "string", "description": "A standalone SVG document."},
                "png": {"type": "string", "description": "A data: URI of a PNG image."},
            },
        },
    },
}
