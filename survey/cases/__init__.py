"""Cases: a citizen's comment becomes a case the agency answers, and the citizen can read the
answer without an account (docs/cases.md)."""

from flask import Blueprint

bp = Blueprint("cases", __name__)

from survey.cases import holidays, views  # noqa: E402,F401  (views register routes on bp)
