"""One-time dossier tickets: the citizen page at /t/<token> (views) and the ticket logic
shared with the API (service)."""

from flask import Blueprint

bp = Blueprint("tickets", __name__)

from survey.tickets import views  # noqa: E402,F401  (views register routes on bp)
