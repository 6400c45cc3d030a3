"""Request checks that run before CSRF and the views: content type and text encoding."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, request
from flask_babel import gettext as _

from survey.errors import abort_with

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def check_no_nul() -> None:
    """NUL characters are not text, and PostgreSQL refuses them in text columns: a query
    string, form or JSON body holding one is refused here, for every route."""
    if any("\x00" in value for values in request.args.listvalues() for value in values):
        _refuse_nul()
    if request.method not in WRITE_METHODS:
        return
    if request.is_json:
        raw = request.get_data(cache=True)
        if b"\x00" in raw or b"\\u0000" in raw:
            _refuse_nul()
    elif request.mimetype in FORM_TYPES:
        if any("\x00" in value for values in request.form.listvalues() for value in values):
            _refuse_nul()


def _refuse_nul() -> None:
    abort_with(
        400,
        _("The text sent contains a NUL character (\\0), which is not text. Please type it again."),
    )


def check_form_request() -> None:
    if request.method not in WRITE_METHODS or request.path.startswith("/api/"):
        return
    if request.mimetype not in FORM_TYPES:
        abort_with(
            415,
            _(
                "This address accepts only web forms (%(types)s).",
                types=", ".join(sorted(FORM_TYPES)),
            ),
        )
    if request.mimetype == "application/x-www-form-urlencoded":
        raw = request.get_data(cache=True)
        try:
            unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            abort_with(400, _("The text sent is not valid UTF-8. Please type it again."))
    else:
        for values in request.form.listvalues():
            if any("\ufffd" in value for value in values):
                abort_with(400, _("The text sent is not valid UTF-8. Please type it again."))


def init_app(app: Flask) -> None:
    app.before_request(check_form_request)
    app.before_request(check_no_nul)
