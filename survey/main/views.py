"""The front page, the health check and a bare ping for benchmarks."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, jsonify, render_template, send_file

from survey.extensions import db
from survey.main import bp


@bp.route("/")
def home():
    return render_template("main/home.html")


@bp.route("/healthz")
def healthz():
    """For load balancers and monitoring: 200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(sa.select(sa.literal(1)))
    except Exception:  # any database failure means "unhealthy"
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/ping")
def ping():
    """A constant answer that touches nothing: the framework's ceiling in bench/bench_submit.py."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/prompts/<digest>.<ext>")
def prompt(digest: str, ext: str):
    """A spoken prompt (survey/languages/prompts.py). Its URL names its content, so browsers,
    proxies and the kiosk's service worker may keep it for a year without asking again."""
    from survey.languages.audio import MIMETYPES
    from survey.languages.prompts import recording

    if len(digest) != 64 or ext not in ("ogg", "mp3"):
        abort(404)
    found = recording(digest)
    if found is None or ext != ("ogg" if found[1] == "opus" else "mp3"):
        abort(404)
    data, kind = found
    response = send_file(
        io.BytesIO(data),
        mimetype=MIMETYPES[kind],
        etag=digest,
        conditional=True,  # answers Range requests (media players) and If-None-Match
        max_age=365 * 24 * 3600,
        download_name=f"{digest[:12]}.{ext}",
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    # Played from pages with their own origin only; nothing to sniff.
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.app_context_processor
def endpoint_helpers() -> dict:
    from flask import current_app

    return {"has_endpoint": lambda name: name in current_app.view_functions}
