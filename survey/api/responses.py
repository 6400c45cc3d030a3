"""POST /api/v1/responses: the idempotent submission used by kiosks and integrators."""

from __future__ import annotations

from datetime import timedelta

from flask import g, jsonify, request
from flask_babel import gettext as _

from survey import cache
from survey.api import bp, openapi
from survey.api.auth import json_body, require
from survey.cases import service as cases
from survey.errors import ApiError
from survey.fields import (
    COMMENT_MAX_LENGTH,
    DOSSIER_CODE,
    DOSSIER_CODE_MESSAGE,
    DOSSIER_CODE_SCHEMA,
)
from survey.languages.packs import COMPILED, language_by_code
from survey.models import Channel, Kiosk, utcnow
from survey.payloads import datetime_field, field, reject_unknown, uuid_field
from survey.responses import InvalidAnswer, ResponseConflict, Submission, record
from survey.security import client_hash

# A tablet's clock is trusted within this window; outside it the rating is refused, not shifted.
MAX_AGE = timedelta(days=30)
MAX_FUTURE = timedelta(minutes=10)
FIELDS = {
    "id",
    "desk",
    "level",
    "answers",
    "comment",
    "dossier_code",
    "client_time",
    "language",
    "mode",
}
MODES = ("standard", "faces")


@bp.post("/responses")
@require(scope="responses:write", kiosk=True)
def create_response():
    data = json_body()
    reject_unknown(data, FIELDS)
    response_id = uuid_field(data, "id")
    desk = _desk(data)
    level = field(data, "level", str, max_length=40)
    answers = field(data, "answers", dict, required=False) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in answers.items()):
        raise ApiError(
            400, _("The field answers must map criterion codes to level codes."), field="answers"
        )
    comment = field(data, "comment", str, required=False, max_length=COMMENT_MAX_LENGTH)
    dossier_code = field(data, "dossier_code", str, required=False, max_length=64)
    if dossier_code is not None and not DOSSIER_CODE.match(dossier_code):
        raise ApiError(400, str(DOSSIER_CODE_MESSAGE), field="dossier_code")
    client_time = datetime_field(data, "client_time")
    if client_time is None and isinstance(g.api_client, Kiosk):
        # The document cannot make a field required for one kind of credential only: the body
        # is valid, but a kiosk's rating without its time cannot be placed (a 422, not a 400).
        raise ApiError(
            422, _("A kiosk must send client_time, when the citizen answered."), field="client_time"
        )
    now = utcnow()
    if client_time is not None and not (now - MAX_AGE <= client_time <= now + MAX_FUTURE):
        raise ApiError(
            422,
            _("client_time is outside the accepted window (up to 30 days ago, not in the future)."),
            field="client_time",
            retryable=False,
        )
    kiosk = g.api_client if isinstance(g.api_client, Kiosk) else None
    language = field(data, "language", str, required=False, max_length=16)
    if language is not None and language not in COMPILED and language_by_code(language) is None:
        raise ApiError(422, _("Unknown language %(code)s.", code=language), field="language")
    mode = field(data, "mode", str, required=False, max_length=20)
    if mode is not None and mode not in MODES:
        raise ApiError(
            400,
            _("The field mode must be one of: %(allowed)s.", allowed=", ".join(MODES)),
            field="mode",
        )
    submission = Submission(
        id=response_id,
        desk=desk,
        questionnaire=desk.current_questionnaire(),
        channel=Channel.KIOSK if kiosk else Channel.API,
        level=level,
        answers=answers,
        comment=(comment or "").strip() or None,
        dossier_code=dossier_code or None,
        client_time=client_time,
        occurred_at=client_time,
        client_hash=client_hash(request.remote_addr) if kiosk is None else None,
        kiosk_id=kiosk.id if kiosk else None,
        language=language,
        mode=mode,
    )
    try:
        stored, created = record(submission)
    except InvalidAnswer as error:  # a code the desk's questionnaire does not have
        raise ApiError(422, str(error), field=error.field) from None
    except ResponseConflict:
        raise ApiError(
            409, _("This id is already stored with different content."), field="id"
        ) from None
    body = {"id": str(stored.id), "status": "created" if created else "duplicate"}
    # Only a rating with a comment can open a case: no query for the others.
    case = cases.case_for_response(stored.id) if stored.comment else None
    if case is not None:  # the portal can show the citizen where the answer will appear
        body["case"] = {"code": case.display_code, "url": cases.public_url(case)}
    return jsonify(body), 201 if created else 200


def _desk(data: dict) -> cache.DeskInfo:
    """The desk to rate, from the per-process cache (survey/cache.py)."""
    client = g.api_client
    code = field(data, "desk", str, max_length=40)  # required of every client
    if isinstance(client, Kiosk):
        desk = cache.desk_by_id(client.desk_id)
        if code != desk.code:
            raise ApiError(
                403, _("This kiosk may only submit ratings for its own desk."), field="desk"
            )
    else:
        desk = cache.desk_by_code(code)
        if desk is None:
            raise ApiError(422, _("Unknown desk code %(code)s.", code=code), field="desk")
        if client.agency_id is not None and desk.agency_id not in cache.subtree_ids(
            client.agency_id
        ):
            raise ApiError(403, _("This API key may not submit for this desk."), field="desk")
    if not desk.active or not desk.agency.active:
        raise ApiError(422, _("This desk no longer takes ratings."), field="desk")
    return desk


openapi.PATHS["/responses"] = {
    "post": {
        "summary": "Submit a rating (idempotent on id)",
        "operationId": "createResponse",
        "tags": ["responses"],
        "security": [{"bearer": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ResponseIn"}}
            },
        },
        "responses": {
            "201": {
                "description": "Stored",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ResponseAck"}}
                },
            },
            "200": {
                "description": "Already stored with the same content (a retry)",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ResponseAck"}}
                },
            },
            "400": {"$ref": "#/components/responses/Problem"},
            "401": {"$ref": "#/components/responses/Problem"},
            "403": {"$ref": "#/components/responses/Problem"},
            "409": {"$ref": "#/components/responses/Problem"},
            "415": {"$ref": "#/components/responses/Problem"},
            "422": {"$ref": "#/components/responses/Problem"},
        },
    }
}
openapi.SCHEMAS["ResponseIn"] = {
    "type": "object",
    "required": ["id", "desk", "level"],
    "description": "No field may be null: leave an optional field out instead.",
    "additionalProperties": False,
    "properties": {
        "id": {
            "type": "string",
            "format": "uuid",
            "description": "Generated by the client; retries reuse it.",
        },
        "desk": {
            "type": "string",
            "maxLength": 40,
            "example": "SYT-01",
            "description": "Desk code. A kiosk may only name its own desk (else 403); an unknown "
            "or inactive desk is a 422.",
        },
        "level": {
            "type": "string",
            "maxLength": 40,
            "example": "hai_long",
            "description": "A level code of the desk's questionnaire, e.g. hai_long; a code "
            "the questionnaire does not have is a 422.",
        },
        "answers": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Criterion code to level code; codes the desk's questionnaire does "
            "not have are a 422.",
        },
        "comment": {"type": "string", "maxLength": COMMENT_MAX_LENGTH},
        "dossier_code": DOSSIER_CODE_SCHEMA,
        "language": {
            "type": "string",
            "maxLength": 16,
            "description": "The language the citizen answered in: vi, en or an added language's "
            "code (e.g. tay); another code is a 422.",
        },
        "mode": {
            "type": "string",
            "enum": ["standard", "faces"],
            "description": "Kiosks: faces when the kiosk asked with faces only (no text).",
        },
        "client_time": {
            "type": "string",
            "format": "date-time",
            "description": "When the citizen answered, with a UTC offset, within the last 30 "
            "days (else 422). Kiosks must send it (a kiosk's rating without it is a 422).",
        },
    },
}
openapi.SCHEMAS["ResponseAck"] = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["created", "duplicate"]},
        "case": {
            "type": "object",
            "required": ["code", "url"],
            "description": "Present when the rating opened a case (a dissatisfied rating with a comment): the code and the page where the citizen reads the agency's answer, without an account.",
            "properties": {
                "code": {"type": "string", "example": "7KQ2M-9XD3F"},
                "url": {"type": "string", "format": "uri"},
            },
        },
    },
}
