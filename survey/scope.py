"""Agency scope: which agencies a user or an API key may see (an agency and its subtree)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from survey.extensions import db
from survey.models import Agency


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
    """The agency ids the signed-in user may see (None: all)."""
    if not current_user.is_authenticated:
        abort(401)
    if current_user.is_admin:
        return None
    return visible_agency_ids(current_user.agency_id)


def require_agency_in_scope(agency: Agency | None, scope: set[int] | None) -> Agency:
    """404 for unknown agencies, 403 for agencies outside the scope."""
    if agency is None:
        abort(404)
    if scope is not None and agency.id not in scope:
        abort(403)
    return agency
