"""Continuity across mergers (1 July 2025: 34 provinces, 3,321 communes).

Responses keep the agency they were given to, so past reports stay as they were. A merged
agency's predecessors are the agencies whose `merged_into` points at it (recorded by the admin
merge, which administrators also use for merges done before hailong), transitively. Its
*combined history* adds their responses to its own: the trend on its page can show it, clearly
labelled, when asked (`history=combined`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm

from survey.extensions import db
from survey.models import Agency
from survey.scope import subtree_ids

HISTORIES = ("own", "combined")


@dataclass(frozen=True)
class Predecessor:
    id: int
    code: str
    name: str


def predecessors(agency_id: int) -> list[Predecessor]:
    """The agencies merged into `agency_id`, and those merged into them, by code."""
    found: dict[int, Predecessor] = {}
    frontier = [agency_id]
    while frontier:
        rows = db.session.execute(
            sa.select(Agency.id, Agency.code, Agency.name).where(
                Agency.merged_into_id.in_(frontier)
            )
        ).all()
        frontier = [r.id for r in rows if r.id not in found and r.id != agency_id]
        for r in rows:
            found.setdefault(r.id, Predecessor(r.id, r.code, r.name))
    return sorted(found.values(), key=lambda p: p.code)


def history_ids(agency_id: int) -> set[int]:
    """The agency's subtree and its predecessors' subtrees (their combined history)."""
    ids = set(subtree_ids(agency_id))
    for predecessor in predecessors(agency_id):
        ids |= subtree_ids(predecessor.id)
    return ids


def successors_born_after(moment: datetime) -> set[int]:
    """Agencies that succeeded merged ones and were created at or after `moment` (naive UTC):
    reports on periods before they existed leave them out when they have no responses there,
    so that a past report reads the same after a merger."""
    successor = sa.select(Agency.merged_into_id).where(Agency.merged_into_id.is_not(None))
    return set(
        db.session.scalars(
            sa.select(Agency.id).where(Agency.id.in_(successor), Agency.created_at >= moment)
        )
    )


def merged_after(moment: datetime) -> set[int]:
    """Agencies merged into a successor created at or after `moment` (naive UTC): on a report
    of a period before that, they were still active and are shown so."""
    successor = sa.orm.aliased(Agency)
    return set(
        db.session.scalars(
            sa.select(Agency.id)
            .join(successor, successor.id == Agency.merged_into_id)
            .where(successor.created_at >= moment)
        )
    )
