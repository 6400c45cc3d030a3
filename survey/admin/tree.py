"""Changes to the agency tree shared by the admin pages and the CLI: moves, mergers, removal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.audit import audit
from survey.collation import by_name
from survey.extensions import db
from survey.models import (
    Agency,
    ApiKey,
    Desk,
    Kiosk,
    Response,
    Target,
    Ticket,
    TreeMove,
    User,
)
from survey.periods import local_today
from survey.scope import subtree_ids


class TreeError(ValueError):
    """A change the tree refuses; the message is translated and meant for people."""


def ordered_tree(agencies: list[Agency] | None = None) -> list[tuple[Agency, int]]:
    """Every agency with its depth, parents before children, siblings in Vietnamese alphabetical
    order of their names (one query)."""
    if agencies is None:
        agencies = list(db.session.scalars(sa.select(Agency)))
    agencies = by_name(agencies, lambda a: a.name, lambda a: a.code)
    ids = {agency.id for agency in agencies}
    children: dict[int | None, list[Agency]] = {}
    for agency in agencies:
        parent = agency.parent_id if agency.parent_id in ids else None
        children.setdefault(parent, []).append(agency)
    out: list[tuple[Agency, int]] = []
    stack = [(agency, 0) for agency in reversed(children.get(None, []))]
    while stack:
        agency, depth = stack.pop()
        out.append((agency, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(agency.id, [])))
    return out


def check_parent(agency: Agency, parent: Agency | None) -> None:
    """Refuse a parent that is the agency itself or one of its descendants (a loop)."""
    if parent is None or agency.id is None:
        return
    if parent.id in subtree_ids(agency.id):
        raise TreeError(
            _(
                "%(parent)s is %(agency)s itself or one of its sub-agencies: the tree would form a loop.",
                parent=parent.name,
                agency=agency.name,
            )
        )


def has_responses(agency: Agency) -> bool:
    return (
        db.session.scalar(sa.select(Response.id).where(Response.agency_id == agency.id).limit(1))
        is not None
    )


def desk_has_history(desk: Desk) -> bool:
    for model, column in (
        (Response, Response.desk_id),
        (Kiosk, Kiosk.desk_id),
        (TreeMove, TreeMove.desk_id),
    ):
        if db.session.scalar(sa.select(model.id).where(column == desk.id).limit(1)) is not None:
            return True
    return (
        db.session.scalar(sa.select(Ticket.id).where(Ticket.desk_id == desk.id).limit(1))
        is not None
    )


def why_not_delete(agency: Agency) -> str | None:
    """None when the agency can be deleted; otherwise the reason, in the user's language."""
    if has_responses(agency):
        return _("It has responses: deactivate it instead, so that its history stays.")
    if agency.children:
        return _("It has sub-agencies: move or delete them first.")
    if agency.desks:
        return _("It has desks: delete or move them first.")
    for model, column in (
        (User, User.agency_id),
        (ApiKey, ApiKey.agency_id),
        (Target, Target.agency_id),
        (Agency, Agency.merged_into_id),
        (TreeMove, TreeMove.agency_id),
        (TreeMove, TreeMove.from_agency_id),
        (TreeMove, TreeMove.to_agency_id),
    ):
        if db.session.scalar(sa.select(model.id).where(column == agency.id).limit(1)):
            return _(
                "Users, API keys, targets or merged agencies refer to it: deactivate it instead."
            )
    return None


@dataclass(frozen=True)
class MergeSummary:
    sources: list[str]
    target: str
    desks: int
    children: int
    users_left: int
    merged_on: date


def merge(
    sources: list[Agency], target: Agency, actor=None, merged_on: date | None = None
) -> MergeSummary:
    """Merge `sources` into `target` on `merged_on` (a local date, default today): their desks
    and sub-agencies move to the target, and they are deactivated with `merged_into` and
    `merged_on` set. Past responses keep their agency, so reports for past periods still show
    the old agencies. A past date records a merger done before hailong (the sources may then
    be inactive already). The caller commits."""
    today = local_today()
    merged_on = merged_on or today
    if not sources:
        raise TreeError(_("Choose at least one agency to merge."))
    if merged_on > today:
        raise TreeError(_("The date of the merger cannot be in the future."))
    if not target.active:
        raise TreeError(_("%(name)s is not active: merge into an active agency.", name=target.name))
    for source in sources:
        if source.id == target.id:
            raise TreeError(_("An agency cannot be merged into itself."))
        if source.merged_into_id is not None:
            raise TreeError(_("%(name)s is already merged.", name=source.name))
        if target.id in subtree_ids(source.id):
            raise TreeError(
                _(
                    "%(target)s is inside %(source)s: merge into an agency outside it.",
                    target=target.name,
                    source=source.name,
                )
            )
    ids = [source.id for source in sources]
    # The moves are recorded with the merger's date, so that reports of periods before it
    # keep the tree of the time (survey.reporting.mergers.tree_at).
    moved_desks = db.session.execute(
        sa.select(Desk.id, Desk.agency_id).where(Desk.agency_id.in_(ids))
    ).all()
    moved_children = db.session.execute(
        sa.select(Agency.id, Agency.parent_id).where(Agency.parent_id.in_(ids))
    ).all()
    db.session.add_all(
        [
            TreeMove(
                moved_on=merged_on, desk_id=desk, from_agency_id=agency, to_agency_id=target.id
            )
            for desk, agency in moved_desks
        ]
        + [
            TreeMove(
                moved_on=merged_on, agency_id=child, from_agency_id=parent, to_agency_id=target.id
            )
            for child, parent in moved_children
        ]
    )
    desks = db.session.execute(
        sa.update(Desk).where(Desk.agency_id.in_(ids)).values(agency_id=target.id)
    ).rowcount
    children = db.session.execute(
        sa.update(Agency).where(Agency.parent_id.in_(ids)).values(parent_id=target.id)
    ).rowcount
    db.session.execute(
        sa.update(Agency)
        .where(Agency.id.in_(ids))
        .values(active=False, merged_into_id=target.id, merged_on=merged_on)
    )
    users_left = (
        db.session.scalar(sa.select(sa.func.count()).where(User.agency_id.in_(ids), User.active))
        or 0
    )
    codes = sorted(source.code for source in sources)
    audit(
        "agency.merge",
        target=target.code,
        user=actor,
        sources=codes,
        merged_on=merged_on.isoformat(),
        desks_moved=desks,
        children_moved=children,
    )
    db.session.expire_all()
    return MergeSummary(codes, target.code, desks, children, users_left, merged_on)
