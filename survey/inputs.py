"""Request checks that run before CSRF and the views: content type and text encoding."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, request
from flask_babel import gettext as _

from survey.errors import abort_with

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


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
