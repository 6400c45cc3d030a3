"""The review queue: analysts mark flagged responses valid or excluded, with a reason."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from survey.review import views  # noqa: E402,F401  (views register routes on bp)
