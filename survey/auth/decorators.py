"""Route guards for staff pages."""

from __future__ import annotations

import functools

from flask import abort
from flask_login import current_user

from survey.models import Role


def role_required(*roles: Role, then=None):
    """Signed-in users with one of `roles` only: anonymous users go to the login page (via
    Flask-Login), signed-in users without the role get 403. `then` runs after these checks."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from survey.extensions import login

                return login.unauthorized()
            if current_user.role not in roles:
                abort(403)
            if then is not None:
                then()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _admin_scope() -> None:
    from survey.scope import check_admin_request

    check_admin_request()


# Administrators, confined to their subtree when they have an agency (survey.scope).
admin_required = role_required(Role.ADMIN, then=_admin_scope)
# Everyone with a staff account: the dashboard, cases and alerts of their scope.
staff_required = role_required(Role.ADMIN, Role.ANALYST, Role.LEADER)
# Deciding whether a rating counts: not leaders, whose own agency is being rated.
reviewer_required = role_required(Role.ADMIN, Role.ANALYST)
