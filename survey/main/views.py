"""The front page, the health check and a bare ping for benchmarks."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, render_template

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


@bp.app_context_processor
def endpoint_helpers() -> dict:
    from flask import current_app

    return {"has_endpoint": lambda name: name in current_app.view_functions}
