"""Route guards for staff pages."""

from __future__ import annotations

import functools

from flask import abort
from flask_login import current_user

from survey.models import Role


def role_required(*roles: Role):
    """Signed-in users with one of `roles` only: anonymous users go to the login page (via
    Flask-Login), signed-in users without the role get 403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from survey.extensions import login

                return login.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = role_required(Role.ADMIN)
# Everyone with a staff account: the dashboard, cases and alerts of their scope.
staff_required = role_required(Role.ADMIN, Role.ANALYST, Role.LEADER)
# Deciding whether a rating counts: not leaders, whose own agency is being rated.
reviewer_required = role_required(Role.ADMIN, Role.ANALYST)
