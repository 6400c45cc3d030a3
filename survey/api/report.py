"""GET /api/v1/report: per-agency counts, rates, intervals, verdicts, p-values and responses
needed, for an API key with the scope reports:read (limited to the key's agency subtree).

One cohesive thing, the endpoint with its parameters and its part of the OpenAPI document side
by side, hence over 400 lines.
"""

from __future__ import annotations

from flask import Response, g, jsonify, request
from flask_babel import gettext as _

from survey import periods, reporting
from survey.api import bp, openapi
from survey.api.auth import require
from survey.errors import ApiError
from survey.models import Kind, Level
from survey.reporting import detail, dossier_splits, exports, labels, mergers
from survey.reporting.options import TARGET_DECIMALS, TARGET_MAX, TARGET_MIN
from survey.scope import visible_agency_ids

QUERY = (
    "period",
    "agency",
    "confidence",
    "method",
    "adjust",
    "deff",
    "target",
    "verdict",
    "kind",
    "level",
    "before_return",
    "format",
    "calendar",
    "history",
)
#: `format`: the JSON body (default), or the official document as DOCX or PDF.
API_FORMATS = ("json", "docx", "pdf")


@bp.get("/report")
@require(scope="reports:read")
def report():
    unknown = sorted(set(request.args) - set(QUERY))
    if unknown:
        raise ApiError(
            400,
            _(
                "Unknown query parameter %(field)s; allowed: %(allowed)s.",
                field=unknown[0],
                allowed=", ".join(QUERY),
            ),
            field=unknown[0],
        )
    fmt = request.args.get("format", "json").strip() or "json"
    if fmt not in API_FORMATS:
        raise ApiError(
            400,
            _("Unknown format; allowed: %(allowed)s.", allowed=", ".join(API_FORMATS)),
            field="format",
        )
    try:
        options = reporting.parse_options(request.args, periods.last_closed_quarter())
    except reporting.OptionError as error:
        status = error.status
        if error.field == "period" and status == 400 and len(request.args["period"]) <= 40:
            # The document gives `period` as text (people type it in many forms, see
            # survey/periods.py): one that follows it but is no period is a 422, not a 400.
            status = 422
        raise ApiError(status, error.message, field=error.field) from None
    key = g.api_client
    scope = visible_agency_ids(key.agency_id)
    try:
        result = reporting.report_for(options, scope, root_id=key.agency_id)
    except reporting.OptionError as error:
        message = error.message
        if error.status == 403:
            message = _("This API key may not read reports for this agency.")
        raise ApiError(error.status, message, field=error.field) from None
    if fmt != "json":
        body = exports.export(result, fmt)
        response = Response(body, content_type=exports.MEDIA_TYPES[fmt])
        name = exports.filename(result, fmt)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        response.headers["Cache-Control"] = "private, no-store"
        return response
    body = exports.to_json(detail.with_followup(result))
    body["dossiers"] = _dossiers(result, options)
    body["splits"] = _splits(result)
    return jsonify(body)


def _splits(result: reporting.Report) -> dict | None:
    """The first row's valid ratings by language and by kiosk mode."""
    if not result.rows:
        return None
    splits = detail.report_audience_splits(result)
    return {"agency": result.rows[0].code, **detail.splits_json(splits)}


def _dossiers(result: reporting.Report, options: reporting.ReportOptions) -> dict | None:
    """Splits by dossier (on time / late, procedures, fields, response rates) of the report's
    first row: the agency asked for, or the top of the key's tree."""
    before = request.args.get("before_return") or "include"
    if before not in dossier_splits.BEFORE_RETURN:
        raise ApiError(
            400,
            _(
                "Unknown value for %(name)s. Allowed: %(values)s.",
                name="before_return",
                values=", ".join(dossier_splits.BEFORE_RETURN),
            ),
            field="before_return",
        )
    if not result.rows:
        return None
    root = result.rows[0]
    splits = dossier_splits.dossier_splits(
        root.id,
        mergers.period_subtree(root.id, options.period),
        options.period,
        options.level_of_confidence,
        before,
    )
    return {"agency": root.code, **splits.to_json()}


_NUMBER_OR_NULL = {"type": "number", "nullable": True}
openapi.PATHS["/report"] = {
    "get": {
        "summary": "Satisfaction report for a period, per agency",
        "description": "Counts are pooled over each agency's subtree. Keys limited to an agency see "
        "only its subtree. Without `period`, the last closed quarter.",
        "operationId": "getReport",
        "tags": ["reports"],
        "security": [{"bearer": []}],
        "parameters": [
            {
                "name": "period",
                "in": "query",
                "schema": {"type": "string", "maxLength": 40},
                "example": "2026-Q3",
                "description": "2026-07, 2026-Q3, 2026-H1, 2026-9M, 2026 or "
                "2026-07-01..2026-09-30 (local dates, UTC+7); text that is no period is a 422",
            },
            {
                "name": "agency",
                "in": "query",
                "schema": {"type": "string"},
                "description": "Agency code: report on its subtree only",
            },
            {
                "name": "confidence",
                "in": "query",
                "schema": {"type": "integer", "enum": list(labels.CONFIDENCES), "default": 95},
            },
            {
                "name": "method",
                "in": "query",
                "schema": {"type": "string", "enum": list(labels.METHODS), "default": "wilson"},
            },
            {
                "name": "adjust",
                "in": "query",
                "schema": {
                    "type": "string",
                    "enum": list(labels.ADJUSTMENTS),
                    "default": "none",
                },
            },
            {
                "name": "deff",
                "in": "query",
                "description": "Design effect of desk-day clusters applied to the verdicts",
                "schema": {
                    "type": "string",
                    "enum": list(labels.DESIGN_EFFECTS),
                    "default": "estimated",
                },
            },
            {
                "name": "target",
                "in": "query",
                "schema": {
                    "type": "number",
                    "minimum": TARGET_MIN,
                    "maximum": TARGET_MAX,
                },
                "description": "What-if target in percent, used to "
                f"{TARGET_DECIMALS} decimals; default: the target table",
            },
            {
                "name": "verdict",
                "in": "query",
                "schema": {"type": "string", "enum": list(labels.VERDICTS)},
            },
            {
                "name": "kind",
                "in": "query",
                "schema": {"type": "string", "enum": [kind.value for kind in Kind]},
            },
            {
                "name": "calendar",
                "in": "query",
                "description": "calendar periods, or those of the reporting regime (Decree "
                "09/2019/NĐ-CP: from the 15th of the month before to the 14th of the last "
                "month); default: the installation's REPORT_CALENDAR",
                "schema": {"type": "string", "enum": ["calendar", "regime"]},
            },
            {
                "name": "history",
                "in": "query",
                "description": "combined: an agency that others were merged into is compared "
                "with the previous period over their combined history (its row says so in "
                "history and history_agencies); default own",
                "schema": {"type": "string", "enum": ["own", "combined"], "default": "own"},
            },
            {
                "name": "format",
                "in": "query",
                "description": "json (default), or the official document (Decree 30/2020/NĐ-CP) "
                "as docx or pdf",
                "schema": {"type": "string", "enum": list(API_FORMATS), "default": "json"},
            },
            {
                "name": "level",
                "in": "query",
                "schema": {"type": "string", "enum": [level.value for level in Level]},
            },
            {
                "name": "before_return",
                "in": "query",
                "schema": {"type": "string", "enum": ["include", "exclude"]},
            },
        ],
        "responses": {
            "200": {
                "description": "The report",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Report"}},
                    exports.MEDIA_TYPES["docx"]: {"schema": {"type": "string", "format": "binary"}},
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "400": {"$ref": "#/components/responses/Problem"},
            "401": {"$ref": "#/components/responses/Problem"},
            "403": {"$ref": "#/components/responses/Problem"},
            "404": {"$ref": "#/components/responses/Problem"},
            "422": {"$ref": "#/components/responses/Problem"},
        },
    }
}
openapi.SCHEMAS["ReportAgency"] = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "name_en": {"type": "string", "nullable": True},
        "parent_code": {"type": "string", "nullable": True},
        "depth": {"type": "integer"},
        "level": {"type": "string"},
        "kind": {"type": "string"},
        "active": {"type": "boolean"},
        "has_children": {"type": "boolean"},
        "family": {
            "type": "string",
            "enum": ["unit", "pooled"],
            "description": "Multiplicity family: a reporting unit judged on its own desks, or "
            "a row that pools units under it (docs/statistics.md)",
        },
        "valid": {"type": "integer", "description": "Valid responses, pooled over the subtree"},
        "satisfied": {"type": "integer"},
        "flagged": {"type": "integer", "description": "Not counted in the rate"},
        "excluded": {"type": "integer", "description": "Not counted in the rate"},
        "own_valid": {
            "type": "integer",
            "description": "Valid responses at the agency's own desks",
        },
        "own_satisfied": {"type": "integer"},
        "rate": _NUMBER_OR_NULL,
        "low": _NUMBER_OR_NULL,
        "high": _NUMBER_OR_NULL,
        "target": _NUMBER_OR_NULL,
        "target_note": {"type": "string", "nullable": True},
        "verdict": {"type": "string", "enum": [*labels.VERDICTS, "no_target"]},
        "p_meets": _NUMBER_OR_NULL,
        "p_below": _NUMBER_OR_NULL,
        "responses_needed": {
            "type": "integer",
            "nullable": True,
            "description": "For inconclusive verdicts; -1 when no number would settle it",
        },
        "small_sample": {"type": "boolean"},
        "tickets_issued": {
            "type": "integer",
            "description": "One-time tickets issued in the period at the subtree's desks",
        },
        "tickets_used": {"type": "integer", "description": "Of those, how many were used"},
        "dossiers_handled": {
            "type": "integer",
            "description": "Dossiers handled as reported (POST /dossier-counts), at the desks "
            "whose counts cover the period",
        },
        "response_answered": {"type": "integer", "description": "The response rate's numerator"},
        "response_base": {"type": "integer", "description": "The response rate's denominator"},
        "response_rate": {
            "type": "number",
            "nullable": True,
            "description": "Tickets used over tickets issued; at desks with dossier counts, "
            "ratings over dossiers handled (docs/integrity.md, Response rates)",
        },
        "low_response_rate": {
            "type": "boolean",
            "description": "The response rate is under RESPONSE_RATE_WARNING (10% by default)",
        },
        "no_denominator": {
            "type": "integer",
            "description": "Valid ratings without a denominator (QR code at the desk, kiosk, "
            "paper, at desks without dossier counts)",
        },
        "previous_valid": {"type": "integer"},
        "previous_satisfied": {"type": "integer"},
        "previous_rate": _NUMBER_OR_NULL,
        "previous_deff": {
            "type": "number",
            "description": "Design effect of the previous period's desk-day clusters, which "
            "the change verdict used for that period (1: not applied)",
        },
        "change": _NUMBER_OR_NULL,
        "change_low": _NUMBER_OR_NULL,
        "change_high": _NUMBER_OR_NULL,
        "change_verdict": {
            "type": "string",
            "enum": ["improved", "declined", "no_clear_change", "no_data"],
        },
        "history": {
            "type": "string",
            "enum": ["own", "combined"],
            "description": "combined: previous_* and change* compare this agency's history "
            "combined with the agencies merged into it (history=combined)",
        },
        "history_agencies": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Codes of the merged agencies the comparison includes",
        },
        "history_valid": {
            "type": "integer",
            "nullable": True,
            "description": "Valid responses of the combined history in the period",
        },
        "history_satisfied": {"type": "integer", "nullable": True},
        "levels": {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "Valid responses by rating level code, pooled over the subtree, "
            'e.g. {"rat_hai_long": 120, "hai_long": 64, "khong_hai_long": 16}',
        },
        "level_shares": {
            "type": "object",
            "additionalProperties": _NUMBER_OR_NULL,
            "description": "Each level's share of the valid responses",
        },
        "points": {"$ref": "#/components/schemas/IndicatorScore"},
        "administrative_verdict": {
            "type": "string",
            "nullable": True,
            "enum": ["dat", "khong_dat", None],
            "description": "Đạt / Không đạt on the point estimate (rate >= target), as "
            "administrations judge; `verdict` is the statistical one",
        },
        "verdict_note": {
            "type": "string",
            "nullable": True,
            "description": "One sentence when the two verdicts disagree",
        },
    },
}
openapi.SCHEMAS["IndicatorScore"] = {
    "type": "object",
    "nullable": True,
    "description": "The provincial indicator score: each indicator's mean points (0-2 by "
    "default), their total out of `maximum` (18), a delta-method interval of the total and "
    "its class; null when no scored answer was given",
    "properties": {
        "total": _NUMBER_OR_NULL,
        "low": _NUMBER_OR_NULL,
        "high": _NUMBER_OR_NULL,
        "class": {
            "type": "string",
            "nullable": True,
            "enum": ["xuat_sac", "tot", "kha", "trung_binh", "yeu", None],
        },
        "maximum": {"type": "number"},
        "responses": {"type": "integer"},
        "indicators": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"mean": _NUMBER_OR_NULL, "answers": {"type": "integer"}},
            },
        },
    },
}
openapi.SCHEMAS["Report"] = {
    "type": "object",
    "required": ["period", "confidence", "method", "summary", "agencies"],
    "properties": {
        "period": {
            "type": "object",
            "properties": {
                "key": {"type": "string"},
                "label": {"type": "string"},
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date"},
                "previous": {"type": "string"},
            },
        },
        "confidence": {"type": "number"},
        "method": {"type": "string"},
        "adjust": {"type": "string"},
        "deff": {"type": "string"},
        "target_override": _NUMBER_OR_NULL,
        "families": {
            "type": "object",
            "description": "Tests judged in each multiplicity family (unit, pooled)",
        },
        "generated_at": {"type": "string", "format": "date-time"},
        "summary": {"type": "object"},
        "agencies": {"type": "array", "items": {"$ref": "#/components/schemas/ReportAgency"}},
        "splits": {
            "type": "object",
            "nullable": True,
            "description": "The valid ratings of the first agency of the report and its "
            "subtree by `language` (vi, en or an added language's code; null: not recorded) "
            "and by kiosk `mode` (standard, faces): code, name, responses, satisfied, rate and "
            "its interval (low, high).",
        },
        "dossiers": {
            "type": "object",
            "nullable": True,
            "description": "Splits by the dossier behind ticket ratings, for the first agency of "
            "the report and its subtree: `on_time`, `late` and `not_returned` (satisfied, "
            "responses, rate, Wilson low/high), `on_time_minus_late` (Newcombe interval), "
            "`on_time_rate` (dossiers returned on time), `by_procedure` and `by_field` (worst "
            "first by shrunk estimate), `response_rate` (tickets issued and used, per desk; "
            "ratings without a ticket have no denominator). `before_return=exclude` leaves out "
            "ratings given before the result was returned.",
        },
        "followup": {
            "type": "object",
            "nullable": True,
            "description": "The follow-up check (docs/statistics.md) of the report's agencies, "
            "from the latest follow-up draw of the period among them (null without one; the "
            "same in the Excel, PDF and Word reports): `draw`, `period`, `seed`, `test`, and per sampled agency "
            "`sampled`, `answered`, `refused`, `unreachable`, `pending`, "
            "`followup_response_rate`, `followup` (satisfied, responses, rate, Wilson "
            "low/high), `self_selected` (satisfied, responses, rate), `self_minus_followup` "
            "(Newcombe interval) and `differs_beyond_chance`.",
        },
    },
}
