from flask import Blueprint

bp = Blueprint("citizen", __name__)

from survey.citizen import views  # noqa: E402,F401  (views register routes on bp)
