"""The staff navigation: each work area with the count that waits there for the signed-in
user (flagged ratings, overdue cases, new alerts); base.html asks once per page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from survey.models import Role

REVIEWERS = (Role.ADMIN, Role.ANALYST)  # as survey.auth.decorators.reviewer_required


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    count: int = 0
    count_label: str = ""  # what the count means, for screen readers and the tooltip


def staff_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    return _items()


def _items() -> list[NavItem]:
    from survey.cases.service import overdue_count
    from survey.review.queue import flagged_count
    from survey.scope import user_scope

    scope = user_scope()
    items = [NavItem("dashboard.index", _("Dashboard"))]
    if current_user.role in REVIEWERS:
        flagged = flagged_count(scope)
        items.append(
            NavItem(
                "review.queue",
                _("Review"),
                flagged,
                ngettext("%(num)d flagged rating", "%(num)d flagged ratings", flagged),
            )
        )
    overdue = overdue_count(scope)
    items.append(
        NavItem(
            "cases.index",
            _("Cases"),
            overdue,
            ngettext("%(num)d overdue case", "%(num)d overdue cases", overdue),
        )
    )
    if current_user.role in REVIEWERS:
        items.append(NavItem("followup.index", _("Follow-up")))
    if "alerts.index" in current_app.view_functions:
        from survey.alerts.service import new_count

        fresh = new_count(scope)
        items.append(
            NavItem(
                "alerts.index",
                _("Alerts"),
                fresh,
                ngettext("%(num)d new alert", "%(num)d new alerts", fresh),
            )
        )
    return items


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation() -> dict:
        from survey.scope import agency_admin_may

        # admin_may(endpoint): whether to link an administration page (agency administrators
        # see only the pages of their subtree, survey.scope).
        return {"staff_nav": staff_items, "admin_may": agency_admin_may}

    del navigation
