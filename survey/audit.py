"""The audit log: who did what, when. The caller commits with its own change."""

from __future__ import annotations

from flask_login import current_user

from survey.extensions import db
from survey.models import AuditLog, User


def audit(action: str, target: str | None = None, user: User | None = None, **detail) -> AuditLog:
    if user is None and current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    entry = AuditLog(
        user_id=user.id if user else None,
        actor=user.email if user else "system",
        action=action,
        target=target,
        detail=detail,
    )
    db.session.add(entry)
    return entry
