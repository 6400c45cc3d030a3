"""Public results for transparency: aggregated rates for the last closed quarter, no sign-in."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/public")

from survey.public import views  # noqa: E402,F401  (views register routes on bp)
