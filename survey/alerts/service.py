"""Who sees and receives which alerts, and the changes people make to them."""

from __future__ import annotations

import sqlalchemy as sa

from survey.alerts.models import Alert, AlertState, AlertSubscription
from survey.audit import audit
from survey.cases.service import ancestor_ids
from survey.extensions import db
from survey.models import Role, User, utcnow

OPEN_STATES = (AlertState.NEW, AlertState.SEEN)
# Roles that receive the e-mails of their scope without subscribing.
ALWAYS_MAILED: tuple[Role, ...] = (Role.LEADER,)


def scoped(query, scope: set[int] | None):
    return query if scope is None else query.where(Alert.agency_id.in_(scope))


def new_count(scope: set[int] | None) -> int:
    """Alerts nobody has looked at yet, in `scope` (the navigation's badge)."""
    query = sa.select(sa.func.count()).select_from(Alert).where(Alert.state == AlertState.NEW)
    return db.session.scalar(scoped(query, scope)) or 0


def is_subscribed(user: User) -> bool:
    return db.session.get(AlertSubscription, user.id) is not None


def subscribe(user: User, wanted: bool) -> None:
    current = db.session.get(AlertSubscription, user.id)
    if wanted and current is None:
        db.session.add(AlertSubscription(user_id=user.id))
        audit("alerts.subscribe", target=user.email)
    elif not wanted and current is not None:
        db.session.delete(current)
        audit("alerts.unsubscribe", target=user.email)


def recipients() -> list[User]:
    """Active users who receive alert e-mails and the weekly digest: leaders, and anyone who
    subscribed."""
    subscribed = sa.select(AlertSubscription.user_id)
    condition = User.id.in_(subscribed)
    if ALWAYS_MAILED:
        condition = sa.or_(condition, User.role.in_(ALWAYS_MAILED))
    return list(db.session.scalars(sa.select(User).where(User.active, condition).order_by(User.id)))


def covers(user: User, agency_id: int, ancestors: dict[int, set[int]]) -> bool:
    """Whether `agency_id` lies in the user's scope (their agency or below it)."""
    if user.agency_id is None:
        return True
    if agency_id not in ancestors:
        ancestors[agency_id] = ancestor_ids(agency_id)
    return user.agency_id in ancestors[agency_id]


def mark_seen(alerts: list[Alert]) -> int:
    changed = 0
    for alert in alerts:
        if alert.state == AlertState.NEW:
            alert.state = AlertState.SEEN
            alert.seen_at = utcnow()
            audit("alert.seen", target=alert.key, agency_id=alert.agency_id)
            changed += 1
    return changed


def resolve(alerts: list[Alert], user: User, note: str | None) -> int:
    changed = 0
    for alert in alerts:
        if alert.state != AlertState.RESOLVED:
            alert.seen_at = alert.seen_at or utcnow()
            alert.state = AlertState.RESOLVED
            alert.resolved_at = utcnow()
            alert.resolved_by = user
            alert.note = note
            audit("alert.resolve", target=alert.key, agency_id=alert.agency_id, note=note)
            changed += 1
    return changed
