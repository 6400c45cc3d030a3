"""Continuity across mergers (1 July 2025: 34 provinces, 3,321 communes).

Responses keep the agency they were given to, so past reports stay as they were. A merged
agency's predecessors are the agencies whose `merged_into` points at it, transitively, each with
the date the merger took effect (`merged_on`, 0:00 Vietnam time). The admin merge records them,
and administrators use it with a past date for merges done before hailong. Its *combined
history* adds their responses to its own: the trend and the period comparison on its page show
it, clearly labelled, when asked (`history=combined`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm

from survey.extensions import db
from survey.models import Agency
from survey.periods import LOCAL_OFFSET, local_midnight_utc
from survey.scope import subtree_ids

HISTORIES = ("own", "combined")


@dataclass(frozen=True)
class Predecessor:
    id: int
    code: str
    name: str
    merged_on: date | None


def predecessors(agency_id: int) -> list[Predecessor]:
    """The agencies merged into `agency_id`, and those merged into them, by code."""
    found: dict[int, Predecessor] = {}
    frontier = [agency_id]
    while frontier:
        rows = db.session.execute(
            sa.select(Agency.id, Agency.code, Agency.name, Agency.merged_on).where(
                Agency.merged_into_id.in_(frontier)
            )
        ).all()
        frontier = [r.id for r in rows if r.id not in found and r.id != agency_id]
        for r in rows:
            found.setdefault(r.id, Predecessor(r.id, r.code, r.name, r.merged_on))
    return sorted(found.values(), key=lambda p: p.code)


def history_ids(agency_id: int) -> set[int]:
    """The agency's subtree and its predecessors' subtrees (their combined history)."""
    ids = set(subtree_ids(agency_id))
    for predecessor in predecessors(agency_id):
        ids |= subtree_ids(predecessor.id)
    return ids


def merger_instant(merged_on: date) -> datetime:
    """A merger takes effect at 0:00 Vietnam time on its date (naive UTC)."""
    return local_midnight_utc(merged_on)


def _merged_before(moment: datetime):
    """The condition "merged (into its successor) before `moment`" on `Agency`; a merger
    without a recorded date counts from its successor's creation."""
    successor = sa.orm.aliased(Agency)
    created = (
        sa.select(successor.created_at)
        .where(successor.id == Agency.merged_into_id)
        .scalar_subquery()
    )
    day = (moment + LOCAL_OFFSET).date()
    if merger_instant(day) < moment:
        day += timedelta(days=1)  # the first date whose merger takes effect at or after moment
    return Agency.merged_into_id.is_not(None) & sa.or_(
        Agency.merged_on < day, Agency.merged_on.is_(None) & (created < moment)
    )


def successors_born_after(moment: datetime) -> set[int]:
    """Successors of merged agencies that did not exist yet at `moment` (naive UTC): created
    at or after it, and no predecessor merged into them before it. Reports of periods before
    they existed leave them out when they have no responses there, so that a past report
    reads the same after a merger; a merger recorded later with an earlier date (done before
    hailong) makes the successor exist from that date."""
    successor = sa.select(Agency.merged_into_id).where(Agency.merged_into_id.is_not(None))
    early = sa.select(Agency.merged_into_id).where(_merged_before(moment))
    return set(
        db.session.scalars(
            sa.select(Agency.id).where(
                Agency.id.in_(successor), Agency.created_at >= moment, Agency.id.not_in(early)
            )
        )
    )


def merged_after(moment: datetime) -> set[int]:
    """Agencies merged at or after `moment` (naive UTC): on a report of a period before that,
    they were still active and are shown so."""
    return set(
        db.session.scalars(
            sa.select(Agency.id).where(
                Agency.merged_into_id.is_not(None), sa.not_(_merged_before(moment))
            )
        )
    )
