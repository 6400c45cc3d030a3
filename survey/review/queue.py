"""The review queue: the flagged responses of a scope, for the review pages and the navigation's
badge."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Response, Status


def flagged(scope: set[int] | None) -> sa.Select:
    """The flagged responses of the agencies in `scope` (None: every agency)."""
    query = sa.select(Response).where(Response.status == Status.FLAGGED)
    if scope is not None:
        query = query.where(Response.agency_id.in_(scope))
    return query


def flagged_count(scope: set[int] | None) -> int:
    """How many ratings wait in the review queue of `scope` (the navigation's badge)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(flagged(scope).subquery()))
