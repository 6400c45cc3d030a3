"""Friendly, translated error pages; JSON problem details (RFC 9457) under /api/."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from survey.extensions import db

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
    422: (
        _l("The request cannot be carried out"),
        _l(
            "What was sent is well formed, but names something that does not exist or is not allowed."
        ),
    ),
    429: (
        _l("Too many requests"),
        _l("Too many requests in a short time. Please wait a moment and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error happened. It has been logged; please try again later."),
    ),
    503: (
        _l("The system is busy"),
        _l(
            "The system is busy for a moment and nothing was saved. Please send it again in a few seconds."
        ),
    ),
}
# Seconds a client is asked to wait when the database is busy (503).
BUSY_RETRY_AFTER = 5


# Views that show their form again, with what was sent, when the CSRF token is stale or
# missing (a citizen's phone kept the page open for hours): endpoint -> the view itself.
_RERENDER: dict[str, Callable] = {}


def rerender_on_csrf_failure(endpoint: str):
    """Mark a view (below any rate-limit decorator) that the CSRF error handler calls again
    with `csrf_expired()` true, so that it renders the sent form with a notice instead of
    saving it."""

    def mark(view: Callable) -> Callable:
        _RERENDER[endpoint] = view
        return view

    return mark


def csrf_expired() -> bool:
    """Whether this request is the CSRF error handler showing a view's form again."""
    return g.get("hailong_csrf_expired", False)


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


class ApiError(Exception):
    """Raised inside API views; turned into a problem-details response."""

    def __init__(
        self, status: int, detail: str, field: str | None = None, title: str | None = None, **extra
    ):
        super().__init__(detail)
        self.status, self.detail, self.field, self.title, self.extra = (
            status,
            detail,
            field,
            title,
            extra,
        )

    def response(self):
        response = problem(self.status, self.detail, self.title, self.field, **self.extra)
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="hailong"'
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
        view = _RERENDER.get(request.endpoint)
        if view is not None:
            g.hailong_csrf_expired = True
            try:
                return view(**request.view_args)
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

    @app.errorhandler(OperationalError)
    def handle_database_busy(error: OperationalError):
        """The database is locked or unreachable (on SQLite, a writer held the lock longer
        than the busy timeout, e.g. during a large import): the transaction is rolled back,
        so nothing was half-written, and the client is asked to retry; the citizen form and
        the kiosk resend the same id, which counts once."""
        db.session.rollback()
        if not database_busy(error):
            return _unexpected(app)
        app.logger.warning("Database busy on %s %s: %s", request.method, request.path, error.orig)
        return _with_header(error_page(503), "Retry-After", str(BUSY_RETRY_AFTER))

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        return _unexpected(app)

    del handle_http, handle_csrf, handle_database_busy, handle_unexpected


# PostgreSQL: lock_not_available, query_canceled (statement timeout), serialization_failure,
# deadlock_detected; class 08 is "connection exception".
BUSY_SQLSTATES = {"55P03", "57014", "40001", "40P01"}


def database_busy(error: OperationalError) -> bool:
    """Whether the database refused for now (locked, timed out, unreachable) rather than for
    a fault that retrying cannot fix (a missing table, say)."""
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    if sqlstate in BUSY_SQLSTATES or sqlstate.startswith("08"):
        return True
    message = str(error.orig).lower()
    return "database is locked" in message or "database table is locked" in message


def _unexpected(app: Flask):
    app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return error_page(500)


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
