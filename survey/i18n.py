"""Language selection: Vietnamese first, English on request, remembered in the session."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request, session
from flask_babel import get_locale


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    requested = request.args.get("lang")
    if requested in languages:
        return requested
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    @app.before_request
    def remember_language() -> None:
        requested = request.args.get("lang")
        if requested in app.config["LANGUAGES"] and session.get("lang") != requested:
            session["lang"] = requested

    @app.context_processor
    def inject_locale() -> dict:
        return {
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "language_url": language_url,
        }


def language_url(code: str) -> str:
    """This page in another language, keeping its query string (a dashboard view, say)."""
    args = request.args.copy()
    args["lang"] = code
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"
