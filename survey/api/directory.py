"""GET /api/v1/agencies and /api/v1/desks: the directory, with each desk's survey URL."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, jsonify, request
from flask_babel import gettext as _

from survey.api import bp, openapi
from survey.api.auth import require
from survey.errors import ApiError
from survey.extensions import db
from survey.models import Agency, Desk
from survey.scope import subtree_ids, visible_agency_ids


def _query(allowed: set[str]) -> dict[str, str]:
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise ApiError(
            400,
            _(
                "Unknown query parameter %(field)s; allowed: %(allowed)s.",
                field=unknown[0],
                allowed=", ".join(sorted(allowed)) or "-",
            ),
            field=unknown[0],
        )
    return {name: request.args.get(name, "") for name in allowed}


def _agency_filter(code: str) -> set[int] | None:
    """The agencies the key may see, narrowed to the subtree of `code` when one is given."""
    scope = visible_agency_ids(g.api_client.agency_id)
    if not code:
        return scope
    if len(code) > 40:
        raise ApiError(
            400,
            _("The field %(field)s is longer than %(max)d.", field="agency", max=40),
            field="agency",
        )
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == code))
    if agency is None:
        raise ApiError(422, _("Unknown agency code %(code)s.", code=code), field="agency")
    if scope is not None and agency.id not in scope:
        raise ApiError(403, _("This API key may not read this agency."), field="agency")
    return subtree_ids(agency.id)


@bp.get("/agencies")
@require(scope="directory:read")
def list_agencies():
    args = _query({"agency"})
    ids = _agency_filter(args["agency"])
    query = sa.select(Agency).order_by(Agency.code)
    if ids is not None:
        query = query.where(Agency.id.in_(ids))
    agencies = db.session.scalars(query).all()
    codes = dict(db.session.execute(sa.select(Agency.id, Agency.code)).all())
    return jsonify(
        {
            "agencies": [
                {
                    "code": a.code,
                    "name": a.name,
                    "name_en": a.name_en,
                    "level": str(a.level),
                    "kind": str(a.kind),
                    "parent": codes.get(a.parent_id),
                    "active": a.active,
                }
                for a in agencies
            ]
        }
    )


@bp.get("/desks")
@require(scope="directory:read")
def list_desks():
    from survey.links import survey_url

    args = _query({"agency"})
    ids = _agency_filter(args["agency"])
    query = sa.select(Desk, Agency.code).join(Agency).order_by(Desk.code)
    if ids is not None:
        query = query.where(Desk.agency_id.in_(ids))
    return jsonify(
        {
            "desks": [
                {
                    "code": desk.code,
                    "name": desk.name,
                    "agency": agency_code,
                    "active": desk.active,
                    "survey_url": survey_url(desk),
                }
                for desk, agency_code in db.session.execute(query).all()
            ]
        }
    )


_AGENCY_PARAM = {
    "name": "agency",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "maxLength": 40},
    "description": "Only this agency and its subtree.",
}


def _list_operation(summary: str, operation_id: str, schema: str) -> dict:
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["directory"],
            "security": [{"bearer": []}],
            "parameters": [_AGENCY_PARAM],
            "responses": {
                "200": {
                    "description": "The list (an agency-scoped key sees its subtree)",
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                    },
                },
                **{
                    code: {"$ref": "#/components/responses/Problem"}
                    for code in ("400", "401", "403", "422")
                },
            },
        }
    }


openapi.PATHS["/agencies"] = _list_operation("List agencies", "listAgencies", "AgencyList")
openapi.PATHS["/desks"] = _list_operation(
    "List desks with their survey URLs", "listDesks", "DeskList"
)
openapi.SCHEMAS["AgencyList"] = {
    "type": "object",
    "required": ["agencies"],
    "properties": {
        "agencies": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "level", "kind", "active"],
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "name_en": {"type": "string", "nullable": True},
                    "level": {
                        "type": "string",
                        "enum": ["province", "department", "district", "commune", "service_unit"],
                    },
                    "kind": {
                        "type": "string",
                        "enum": ["administrative", "health", "education", "other"],
                    },
                    "parent": {"type": "string", "nullable": True},
                    "active": {"type": "boolean"},
                },
            },
        }
    },
}
openapi.SCHEMAS["DeskList"] = {
    "type": "object",
    "required": ["desks"],
    "properties": {
        "desks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "name", "agency", "active", "survey_url"],
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "agency": {"type": "string"},
                    "active": {"type": "boolean"},
                    "survey_url": {"type": "string", "format": "uri"},
                },
            },
        }
    },
}
