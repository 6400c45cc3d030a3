"""POST /api/v1/dossier-counts: how many dossiers a desk handled in a period, the denominator
of its response rate (survey.dossier_counts)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, jsonify
from flask_babel import gettext as _

from survey import dossier_counts
from survey.api import bp, openapi
from survey.api.auth import json_body, require
from survey.errors import ApiError
from survey.extensions import db
from survey.models import Desk
from survey.payloads import field, reject_unknown
from survey.periods import PeriodError, parse_period
from survey.scope import visible_agency_ids

FIELDS = {"desk", "period", "handled"}


@bp.post("/dossier-counts")
@require(scope="tickets:write")
def record_dossier_count():
    data = json_body()
    reject_unknown(data, FIELDS)
    desk_code = field(data, "desk", str, max_length=40)
    try:
        span = parse_period(field(data, "period", str, max_length=40))
    except PeriodError as error:  # text the document allows, but no period: 422
        raise ApiError(422, str(error), field="period") from None
    handled = field(data, "handled", int)
    if not 0 <= handled <= dossier_counts.MAX_HANDLED:
        raise ApiError(
            400,
            _(
                "The number of dossiers must be a whole number from 0 to %(n)d.",
                n=dossier_counts.MAX_HANDLED,
            ),
            field="handled",
        )
    desk = db.session.scalar(sa.select(Desk).where(Desk.code == desk_code))
    if desk is None:
        raise ApiError(422, _("Unknown desk code %(code)s.", code=desk_code), field="desk")
    scope = visible_agency_ids(g.api_client.agency_id)
    if scope is not None and desk.agency_id not in scope:
        raise ApiError(403, _("This API key may not report for this desk."), field="desk")
    try:
        status = dossier_counts.record(desk, span, handled, f"api:{g.api_client.prefix}")
    except dossier_counts.CountError as error:
        db.session.rollback()
        raise ApiError(422, str(error), field="period") from None
    db.session.commit()
    body = {
        "status": status,
        "desk": desk.code,
        "start": span.start.isoformat(),
        "end": span.end.isoformat(),
        "handled": handled,
    }
    return jsonify(body), 201 if status == "created" else 200


openapi.PATHS["/dossier-counts"] = {
    "post": {
        "summary": "Report how many dossiers a desk handled in a period",
        "description": "The denominator of the desk's response rate: a report period uses a "
        "desk's counts when its periods inside the report period cover it day for day (e.g. "
        "three months for a quarter); otherwise the desk's tickets are the denominator. "
        "Idempotent on (desk, period): sending the same period again replaces the number "
        "(200, `updated` or `unchanged`). A period that overlaps another period of the desk "
        "is refused (422).",
        "operationId": "recordDossierCount",
        "tags": ["tickets"],
        "security": [{"bearer": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/DossierCountIn"}}
            },
        },
        "responses": {
            "201": {
                "description": "Stored",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/DossierCount"}}
                },
            },
            "200": {
                "description": "This desk and period had a count: replaced, or the same",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/DossierCount"}}
                },
            },
            **{
                code: {"$ref": "#/components/responses/Problem"}
                for code in ("400", "401", "403", "415", "422")
            },
        },
    }
}
openapi.SCHEMAS["DossierCountIn"] = {
    "type": "object",
    "required": ["desk", "period", "handled"],
    "additionalProperties": False,
    "properties": {
        "desk": {
            "type": "string",
            "maxLength": 40,
            "example": "SYT-01",
            "description": "Desk code; an unknown desk is a 422.",
        },
        "period": {
            "type": "string",
            "maxLength": 40,
            "example": "2026-07",
            "description": "2026-07, 2026-Q3, 2026-H1, 2026 or 2026-07-01..2026-07-15 (local "
            "dates, calendar periods); text that is no period is a 422.",
        },
        "handled": {
            "type": "integer",
            "minimum": 0,
            "maximum": dossier_counts.MAX_HANDLED,
            "description": "Dossiers the desk handled (received) in the period.",
        },
    },
}
openapi.SCHEMAS["DossierCount"] = {
    "type": "object",
    "required": ["status", "desk", "start", "end", "handled"],
    "properties": {
        "status": {"type": "string", "enum": ["created", "updated", "unchanged"]},
        "desk": {"type": "string"},
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
        "handled": {"type": "integer"},
    },
}
