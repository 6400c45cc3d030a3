"""The public results page: per agency, the rate, interval and verdict of the last closed
quarter. Aggregated counts only (no comments, no desks); small agencies show no rate."""

from __future__ import annotations

from flask import current_app, render_template

from survey import periods, reporting
from survey.public import bp
from survey.reporting import formatting, html, labels


@bp.route("/results")
def results():
    period = periods.last_closed_quarter()
    options = reporting.ReportOptions(period=period, adjust=current_app.config["PUBLIC_ADJUST"])
    report = reporting.build_report(options)
    minimum = int(current_app.config["PUBLIC_MIN_RESPONSES"])
    response = current_app.make_response(
        render_template(
            "public/results.html",
            report=report,
            rows=report.rows,
            minimum=minimum,
            fmt=formatting,
            labels=labels,
            present=html,
        )
    )
    response.headers["Cache-Control"] = "public, max-age=600"
    return response
