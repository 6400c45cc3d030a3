"""The JSON API under /api/v1/. Errors are problem details (RFC 9457).

Each module that adds routes also adds its part of the OpenAPI document to `openapi.PATHS`.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from survey.api import (  # noqa: E402,F401  (modules register routes on bp)  # noqa: E402,F401
    directory,
    dossier_counts,
    kiosk,  # noqa: E402,F401
    openapi,
    report,  # noqa: E402,F401
    responses,
    tickets,
)
