"""Continuity across mergers (1 July 2025: 34 provinces, 3,321 communes).

Responses keep the agency they were given to, so past reports stay as they were. A merged
agency's predecessors are the agencies whose `merged_into` points at it, transitively, each with
the date the merger took effect (`merged_on`, 0:00 Vietnam time). The admin merge records them,
and administrators use it with a past date for merges done before hailong. Its *combined
history* adds their responses to its own: the trend and the period comparison on its page show
it, clearly labelled, when asked (`history=combined`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm

from survey.extensions import db
from survey.models import Agency, Desk, TreeMove
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


def first_day_from(moment: datetime) -> date:
    """The first local date whose merger takes effect at or after `moment` (naive UTC)."""
    day = (moment + LOCAL_OFFSET).date()
    return day + timedelta(days=1) if merger_instant(day) < moment else day


def _merged_before(moment: datetime):
    """The condition "merged (into its successor) before `moment`" on `Agency`; a merger
    without a recorded date counts from its successor's creation."""
    successor = sa.orm.aliased(Agency)
    created = (
        sa.select(successor.created_at)
        .where(successor.id == Agency.merged_into_id)
        .scalar_subquery()
    )
    day = first_day_from(moment)
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


@dataclass(frozen=True)
class TreeAt:
    """How the tree stood at a moment, as far as mergers moved it since: the parent of each
    sub-agency (`parents`) and the agency of each desk (`desks`) moved at or after it. The
    others are where they are today."""

    parents: dict[int, int]
    desks: dict[int, int]

    def parent_of(self, agency_id: int, today: int | None) -> int | None:
        return self.parents.get(agency_id, today)

    def agency_of(self, desk_id: int, today: int) -> int:
        return self.desks.get(desk_id, today)


def tree_at(moment: datetime) -> TreeAt:
    """The tree at `moment` (naive UTC; a report's is the end of its period): each object
    moved since takes the agency it left in its first move at or after `moment`."""
    rows = db.session.execute(
        sa.select(TreeMove.agency_id, TreeMove.desk_id, TreeMove.from_agency_id)
        .where(TreeMove.moved_on >= first_day_from(moment))
        .order_by(TreeMove.moved_on, TreeMove.id)
    ).all()
    parents: dict[int, int] = {}
    desks: dict[int, int] = {}
    for agency_id, desk_id, from_agency_id in rows:
        if agency_id is not None:
            parents.setdefault(agency_id, from_agency_id)
        else:
            desks.setdefault(desk_id, from_agency_id)
    return TreeAt(parents, desks)


def subtree_at(agency_id: int, moment: datetime) -> set[int]:
    """`survey.scope.subtree_ids` in the tree as it stood at `moment`."""
    at = tree_at(moment)
    if not at.parents:
        return subtree_ids(agency_id)
    return _below(agency_id, _children_at(at))


def _children_at(at: TreeAt) -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for child, parent in db.session.execute(sa.select(Agency.id, Agency.parent_id)):
        children.setdefault(at.parent_of(child, parent), []).append(child)
    return children


def _below(agency_id: int, children: dict[int | None, list[int]]) -> set[int]:
    found, frontier = {agency_id}, [agency_id]
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def desk_agencies_at(moment: datetime, desk_ids=None) -> dict[int, int]:
    """{desk id: its agency at `moment`} for `desk_ids` (default: every desk)."""
    at = tree_at(moment)
    query = sa.select(Desk.id, Desk.agency_id)
    if desk_ids is not None:
        query = query.where(Desk.id.in_(sorted(desk_ids)))
    return {desk: at.agency_of(desk, agency) for desk, agency in db.session.execute(query)}


def desks_at(moment: datetime, agency_ids) -> list[int]:
    """The desks whose agency at `moment` is one of `agency_ids`."""
    at = tree_at(moment)
    ids = set(agency_ids)
    if not at.desks:
        return list(db.session.scalars(sa.select(Desk.id).where(Desk.agency_id.in_(sorted(ids)))))
    return sorted(
        desk
        for desk, agency in db.session.execute(sa.select(Desk.id, Desk.agency_id))
        if at.agency_of(desk, agency) in ids
    )


def period_subtree(agency_id: int, period) -> set[int]:
    """An agency's subtree as it stood at the end of `period` (a report's tree)."""
    return subtree_at(agency_id, period.utc_bounds()[1])


def period_subtrees(agency_ids: Iterable[int], period) -> dict[int, set[int]]:
    """`period_subtree` of each of `agency_ids`, the tree read once for all of them."""
    children = _children_at(tree_at(period.utc_bounds()[1]))
    return {agency_id: _below(agency_id, children) for agency_id in agency_ids}


def predecessor_ids() -> dict[int, list[int]]:
    """{agency id: the ids of every agency merged into it, transitively}, in one query."""
    direct: dict[int, list[int]] = {}
    for agency_id, successor in db.session.execute(
        sa.select(Agency.id, Agency.merged_into_id).where(Agency.merged_into_id.is_not(None))
    ):
        direct.setdefault(successor, []).append(agency_id)
    found: dict[int, list[int]] = {}
    for successor in direct:
        seen: set[int] = set()
        frontier = list(direct[successor])
        while frontier:
            agency_id = frontier.pop()
            if agency_id not in seen and agency_id != successor:
                seen.add(agency_id)
                frontier.extend(direct.get(agency_id, ()))
        found[successor] = sorted(seen)
    return found
