"""Kiosk device endpoints: its configuration, and a heartbeat with its queue length.

Ratings themselves go to POST /responses with the same kiosk token. The logic lives in
survey/api/kiosk_device.py; this module holds the routes and their part of the OpenAPI document.
"""

from __future__ import annotations

from flask import jsonify

from survey.api import bp, openapi
from survey.api.auth import json_body, require
from survey.api.kiosk_device import config_document, current_kiosk, record_heartbeat, server_time
from survey.extensions import db


@bp.get("/kiosk/config")
@require(kiosk=True)
def kiosk_config():
    response = jsonify(config_document(current_kiosk()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/kiosk/heartbeat")
@require(kiosk=True)
def kiosk_heartbeat():
    kiosk = current_kiosk()
    record_heartbeat(kiosk, json_body())
    db.session.commit()
    return jsonify({"status": "ok", "server_time": server_time()})


_PROBLEMS = {
    code: {"$ref": "#/components/responses/Problem"} for code in ("400", "401", "403", "415")
}
_LABELS = {
    "type": "object",
    "description": "Text by language code (vi, en).",
    "additionalProperties": {"type": "string"},
}

openapi.PATHS["/kiosk/config"] = {
    "get": {
        "summary": "The kiosk's desk, questionnaire and settings (kiosk token only)",
        "operationId": "getKioskConfig",
        "tags": ["kiosk"],
        "security": [{"bearer": []}],
        "responses": {
            "200": {
                "description": "The configuration; the kiosk keeps its last good copy offline",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/KioskConfig"}}
                },
            },
            **{k: v for k, v in _PROBLEMS.items() if k in ("401", "403")},
        },
    }
}
openapi.PATHS["/kiosk/heartbeat"] = {
    "post": {
        "summary": "Report that the kiosk is alive, its queue length and app version",
        "operationId": "kioskHeartbeat",
        "tags": ["kiosk"],
        "security": [{"bearer": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/KioskHeartbeat"}}
            },
        },
        "responses": {
            "200": {
                "description": "Recorded",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/KioskHeartbeatAck"}
                    }
                },
            },
            **_PROBLEMS,
        },
    }
}
openapi.SCHEMAS["KioskConfig"] = {
    "type": "object",
    "required": ["kiosk", "desk", "questionnaire", "settings", "server_time"],
    "properties": {
        "kiosk": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "desk": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "agency": _LABELS,
                "active": {
                    "type": "boolean",
                    "description": "False when the desk no longer takes ratings.",
                },
            },
        },
        "questionnaire": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "key": {"type": "string"},
                "version": {"type": "integer"},
                "levels": {
                    "type": "array",
                    "description": "Overall levels, best first.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "face": {"type": "string"},
                            "label": _LABELS,
                            "satisfied": {
                                "type": "boolean",
                                "description": "Whether this level counts as satisfied.",
                            },
                        },
                    },
                },
                "criteria": {
                    "type": "array",
                    "maxItems": 2,
                    "description": "The criteria this kiosk asks after the overall level.",
                    "items": {
                        "type": "object",
                        "properties": {"code": {"type": "string"}, "label": _LABELS},
                    },
                },
            },
        },
        "settings": {
            "type": "object",
            "properties": {
                "cooldown_seconds": {"type": "integer", "minimum": 1},
                "idle_seconds": {"type": "integer", "minimum": 1},
                "hours": {
                    "type": "array",
                    "minItems": 7,
                    "maxItems": 7,
                    "description": "Monday to Sunday: [opens, closes) in minutes after local "
                    "midnight, or null when closed all day.",
                    "items": {
                        "type": "array",
                        "nullable": True,
                        "items": {"type": "integer"},
                    },
                },
                "utc_offset_minutes": {
                    "type": "integer",
                    "description": "Local time of the opening hours (420 for Vietnam).",
                },
                "faces_only": {"type": "boolean"},
                "speak_on_approach": {
                    "type": "boolean",
                    "description": "Wait on a 'touch the screen' start screen whose touch "
                    "plays the spoken prompt.",
                },
            },
        },
        "prompts": {
            "type": "object",
            "description": "Spoken prompts: {language: {key: URL}}, keys question, "
            "level.<code>, criterion.<code>, thanks. Each URL names its content (cache it "
            "for good).",
            "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "server_time": {"type": "string", "format": "date-time"},
    },
}
openapi.SCHEMAS["KioskHeartbeat"] = {
    "type": "object",
    "required": ["queue_length"],
    "additionalProperties": False,
    "properties": {
        "queue_length": {
            "type": "integer",
            "minimum": 0,
            "maximum": 1_000_000,
            "description": "Ratings stored on the device and not yet acknowledged.",
        },
        "app_version": {"type": "string", "maxLength": 40},
        "rejected": {
            "type": "integer",
            "minimum": 0,
            "maximum": 1_000_000,
            "description": "Ratings dropped since the last heartbeat because the server refused "
            "them (400, 403, 409 or 422); they are logged.",
        },
    },
}
openapi.SCHEMAS["KioskHeartbeatAck"] = {
    "type": "object",
    "required": ["status", "server_time"],
    "properties": {
        "status": {"type": "string", "enum": ["ok"]},
        "server_time": {
            "type": "string",
            "format": "date-time",
            "description": "So that staff can see when the tablet's clock is off.",
        },
    },
}
