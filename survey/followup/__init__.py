"""The follow-up sample (SIPAS-style): a stratified random draw of returned dossiers, called
back by the one-stop staff or the call centre, whose answers check the self-selected ratings
(docs/statistics.md, "Follow-up sample")."""

from flask import Blueprint

bp = Blueprint("followup", __name__, url_prefix="/followup")

from survey.followup import models, views  # noqa: E402,F401  (views register routes on bp)
