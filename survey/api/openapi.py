"""The OpenAPI 3 document, assembled from the parts each API module registers."""

from __future__ import annotations

from flask import jsonify

from survey import __version__
from survey.api import bp

PATHS: dict[str, dict] = {}
SCHEMAS: dict[str, dict] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "field": {
                "type": "string",
                "description": "The request field that failed, when there is one.",
            },
        },
    }
}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "hailong API",
            "version": __version__,
            "description": "Citizen satisfaction surveys: submissions, one-time tickets, directory and reports. "
            "Authenticate with `Authorization: Bearer <API key or kiosk token>`.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": dict(sorted(PATHS.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {
                "Problem": {
                    "description": "An error, as problem details",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())


PATHS["/openapi.json"] = {
    "get": {
        "summary": "This document",
        "operationId": "openapi",
        "tags": ["meta"],
        "responses": {
            "200": {"description": "The OpenAPI document", "content": {"application/json": {}}}
        },
    }
}
