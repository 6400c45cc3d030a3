"""The analysts' dashboard: agency table, agency pages, province charts and exports."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from survey.dashboard import views  # noqa: E402,F401  (views register routes on bp)
