"""The administration: agencies, desks, QR posters, questionnaires, targets, users, imports.

Every page is for administrators only: the guard runs before each request of the blueprint.
"""

from flask import Blueprint

from survey.auth.decorators import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def _administrators_only():
    """Anonymous users go to the sign-in page; signed-in non-administrators get 403; agency
    administrators are confined to their subtree (survey.scope.check_admin_request)."""
    return None


from survey.admin import (  # noqa: E402,F401  (modules register routes on bp)
    api_keys,
    desks,
    languages,
    prompts,
    questionnaires,
    scoring,
    targets,
    uploads,
    users,
    views,
)
