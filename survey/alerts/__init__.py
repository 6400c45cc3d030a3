"""Alerts: drops noticed by each agency's CUSUM chart, verdicts below the target and overdue
cases, shown on a page and e-mailed to leaders and subscribers (docs/alerts.md)."""

from flask import Blueprint

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

from survey.alerts import views  # noqa: E402,F401  (views register routes on bp)
