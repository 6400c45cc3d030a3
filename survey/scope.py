"""Agency scope: which agencies a user or an API key may see (an agency and its subtree), and
what an administrator may change.

One model for every staff role: a user with an agency sees and acts on that agency and its
sub-agencies only; a user without one sees everything. For administrators this gives two kinds:

- a **global administrator** (role admin, no agency) administers the whole province;
- an **agency administrator** (role admin with an agency, e.g. a commune's or a department's)
  administers its subtree: users, API keys, agencies, desks, posters, kiosks and paper forms of
  the subtree, never anything above or beside it, and never the province-wide settings
  (questionnaires, targets, public holidays, the agency import, the e-mail outbox).

`check_admin_request` enforces it for every administration route, in one place: the guard
`survey.auth.decorators.admin_required` calls it on every request it lets through. Endpoints
are refused to agency administrators unless they are listed in `AGENCY_ADMIN_ENDPOINTS`
(default deny), and the objects those endpoints name in their URL (`agency_id`, `desk_id`,
`kiosk_id`, `user_id`, `key_id`) must lie inside the subtree. Objects chosen in forms are
confined by the choices (`survey.admin.common.agency_choices`), and lists by `user_scope()`.
docs/security.md has the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from survey.extensions import db
from survey.models import Agency, ApiKey, Desk, Kiosk, User


def subtree_ids(agency_id: int) -> set[int]:
    """The ids of an agency and all its descendants (a recursive CTE, one query)."""
    tree = sa.select(Agency.id).where(Agency.id == agency_id).cte("tree", recursive=True)
    tree = tree.union_all(sa.select(Agency.id).join(tree, Agency.parent_id == tree.c.id))
    return set(db.session.scalars(sa.select(tree.c.id)))


def visible_agency_ids(scope_agency_id: int | None) -> set[int] | None:
    """None means "everything"; otherwise the set of agency ids within the scope."""
    if scope_agency_id is None:
        return None
    return subtree_ids(scope_agency_id)


def user_scope() -> set[int] | None:
    """The agency ids the signed-in user may see and, for an administrator, change (None: all).

    The same rule for every role: an agency administrator is confined like an analyst."""
    if not current_user.is_authenticated:
        abort(401)
    return visible_agency_ids(current_user.agency_id)


def is_global_admin() -> bool:
    return current_user.is_authenticated and current_user.is_admin and user_scope() is None


def require_agency_in_scope(agency: Agency | None, scope: set[int] | None) -> Agency:
    """404 for unknown agencies, 403 for agencies outside the scope."""
    if agency is None:
        abort(404)
    if scope is not None and agency.id not in scope:
        abort(403)
    return agency


# Administration endpoints open to agency administrators. Each one keeps to the subtree: the
# objects in its URL are checked by `check_admin_request`, its lists and form choices are
# filtered by `user_scope()`. Every other administration endpoint is for global
# administrators only, so a route added later is closed to agency administrators until it is
# scoped and listed here.
AGENCY_ADMIN_ENDPOINTS = frozenset(
    {
        "admin.index",
        "admin.agencies",
        "admin.agencies_export",
        "admin.agency",
        "admin.agency_new",
        "admin.agency_edit",
        "admin.agency_activate",
        "admin.agency_deactivate",
        "admin.agency_delete",
        "admin.agency_merge",
        "admin.desk_new",
        "admin.desk_edit",
        "admin.desk_active",
        "admin.desk_delete",
        "admin.posters_pdf",
        "admin.users",
        "admin.user_new",
        "admin.user_edit",
        "admin.user_active",
        "admin.user_reset_password",
        "admin.api_keys",
        "admin.api_key_new",
        "admin.api_key_revoke",
        "admin.import_paper",
        "admin.import_template",
        "kiosks.index",
        "kiosks.create",
        "kiosks.new_code",
        "kiosks.revoke",
        "kiosks.settings",
        # Confined by the form: its agency choices are the subtree (survey.followup.views).
        "followup.new_draw",
    }
)

# URL arguments that name an object, and how to find the agency the object belongs to.
# A user or an API key without an agency is global: outside every agency administrator's scope.
OBJECT_ARGS = {
    "agency_id": (Agency, lambda agency: agency.id),
    "desk_id": (Desk, lambda desk: desk.agency_id),
    "kiosk_id": (Kiosk, lambda kiosk: kiosk.desk.agency_id),
    "user_id": (User, lambda user: user.agency_id),
    "key_id": (ApiKey, lambda key: key.agency_id),
}


def agency_admin_may(endpoint: str | None) -> bool:
    """Whether the signed-in administrator may use `endpoint` at all (for the navigation)."""
    return user_scope() is None or endpoint in AGENCY_ADMIN_ENDPOINTS


def check_admin_request() -> None:
    """Confine an agency administrator's request to the subtree: 403 on a global-only
    endpoint or on an object outside the scope, 404 on an unknown object."""
    scope = user_scope()
    if scope is None:
        return
    if request.endpoint not in AGENCY_ADMIN_ENDPOINTS:
        abort(403)
    for name, value in (request.view_args or {}).items():
        if name not in OBJECT_ARGS:
            continue
        model, agency_of = OBJECT_ARGS[name]
        found = db.session.get(model, value)
        if found is None:
            abort(404)
        if agency_of(found) not in scope:
            abort(403)


def is_scope_root(agency: Agency) -> bool:
    """The agency administrator's own agency: it hangs in the tree above their scope, so only
    an administrator above it may move, rename, deactivate, merge or delete it."""
    return user_scope() is not None and agency.id == current_user.agency_id
