"""Friendly, translated error pages; JSON problem details (RFC 9457) under /api/."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: (
        _l("The request could not be understood"),
        _l("Something in what was sent is not valid. Please go back and try again."),
    ),
    401: (_l("Please sign in"), _l("You need to sign in to see this page.")),
    403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
    404: (
        _l("Page not found"),
        _l(
            "This address does not exist or is no longer valid. If you scanned a QR code, please ask the desk for a new one."
        ),
    ),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    409: (_l("Conflict"), _l("This was already submitted with different content.")),
    410: (_l("No longer available"), _l("This is no longer available.")),
    413: (_l("Too large"), _l("What was sent is too large.")),
    415: (_l("Unsupported content type"), _l("This form must be sent as a normal web form.")),
    429: (
        _l("Too many requests"),
        _l("Too many requests in a short time. Please wait a moment and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error happened. It has been logged; please try again later."),
    ),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def problem(
    status: int,
    detail: str | None = None,
    title: str | None = None,
    field: str | None = None,
    **extra,
):
    """A JSON problem-details response (RFC 9457)."""
    default_title, default_detail = MESSAGES.get(status, MESSAGES[400])
    body = {
        "type": f"https://hailong.invalid/problems/{status}",
        "title": str(title or default_title),
        "status": status,
        "detail": str(detail or default_detail),
    }
    if field:
        body["field"] = field
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


def error_page(status: int, detail: str | None = None, title: str | None = None):
    default_title, default_detail = MESSAGES.get(status, MESSAGES[400])
    if wants_json():
        return problem(status, detail, title)
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title or default_title,
            detail=detail or default_detail,
        ),
        status,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        detail = error.description if getattr(error, "hailong_message", False) else None
        response = error_page(error.code or 500, detail)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response = _with_header(response, "Allow", ", ".join(error.valid_methods))
        return response

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):
        handler = app.extensions.get("hailong_csrf_rerender", {}).get(request.endpoint)
        if handler is not None:
            try:
                return handler()
            except HTTPException as refused:  # e.g. a forged token: its own friendly page
                message = (
                    refused.description if getattr(refused, "hailong_message", False) else None
                )
                return error_page(refused.code or 500, message)
        return error_page(
            400,
            _(
                "Your session expired or the form was not sent from this site. Please reload the page and try again."
            ),
            _("The form has expired"),
        )

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_page(500)

    del handle_http, handle_csrf, handle_unexpected


def _with_header(response, name: str, value: str):
    from flask import make_response

    response = make_response(response)
    response.headers[name] = value
    return response


def abort_with(status: int, message: str):
    """Abort with a message meant for the user (already translated)."""
    from werkzeug.exceptions import default_exceptions

    exc = default_exceptions.get(status, InternalServerError)(description=message)
    exc.hailong_message = True
    raise exc
