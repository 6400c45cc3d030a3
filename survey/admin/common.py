"""Helpers shared by the admin views: lookups that 404, choices, one-click confirmations."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, make_response, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from survey.admin.forms import ConfirmForm
from survey.admin.tree import ordered_tree
from survey.audit import audit
from survey.errors import abort_with
from survey.extensions import db
from survey.fields import choices
from survey.models import Agency, Questionnaire
from survey.scope import is_scope_root, user_scope


def get_or_404(model, object_id: int):
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


def require_confirm() -> None:
    """A state-changing button: the CSRF token must be valid, else 400 and nothing changes."""
    if not ConfirmForm().validate_on_submit():
        abort_with(400, _("The form has expired. Please reload the page and try again."))


def agency_choices(empty_label: str | None = None, exclude: set[int] | None = None, active=True):
    """Agencies as an indented tree for a select; `exclude` drops ids (e.g. a subtree).

    An agency administrator is offered the agencies of their subtree only, and never the empty
    choice (all agencies, the top of the tree): the form's choice validation then refuses
    any other agency, whatever is posted."""
    scope = user_scope()
    rows = [
        (str(agency.id), "\u2003" * depth + f"{agency.name} ({agency.code})")
        for agency, depth in ordered_tree()
        if (not active or agency.active)
        and agency.id not in (exclude or set())
        and (scope is None or agency.id in scope)
    ]
    if empty_label is not None and scope is None:
        rows.insert(0, ("", empty_label))
    return choices(rows)


def scoped(query, column):
    """`query` limited to rows whose agency `column` is in the signed-in user's scope."""
    scope = user_scope()
    return query if scope is None else query.where(column.in_(scope))


def require_changeable(agency: Agency) -> None:
    """An agency administrator's own agency is changed only by an administrator above it."""
    if is_scope_root(agency):
        abort_with(
            403,
            _(
                "%(name)s is your own agency: only an administrator above it can change it.",
                name=agency.name,
            ),
        )


def questionnaire_title(questionnaire: Questionnaire) -> str:
    return questionnaire.label(questionnaire.title, str(get_locale()))


def questionnaire_choices(empty_label: str):
    published = db.session.scalars(
        sa.select(Questionnaire)
        .where(Questionnaire.published_at.is_not(None))
        .order_by(Questionnaire.key, Questionnaire.version)
    )
    rows = [("", empty_label)]
    rows.extend(
        (
            str(q.id),
            _("%(title)s, version %(version)d", title=questionnaire_title(q), version=q.version),
        )
        for q in published
    )
    return choices(rows)


def agency_by_id(value: str | None) -> Agency | None:
    from survey.admin.forms import parse_id

    agency_id = parse_id(value)
    return db.session.get(Agency, agency_id) if agency_id is not None else None


def language_choices():
    """The admin-added languages (survey/languages), each as “Tày (tay)”."""
    from survey.languages.models import Language

    rows = db.session.scalars(sa.select(Language).order_by(Language.code))
    return choices((lang.code, f"{lang.name} – {lang.name_vi} ({lang.code})") for lang in rows)


def code_taken(model, code: str, own_id: int | None) -> bool:
    """Whether another row of `model` than `own_id` has `code` (codes are unique)."""
    found = db.session.scalar(sa.select(model.id).where(model.code == code))
    return found is not None and found != own_id


def free_code(field, model, own, taken: str) -> str | None:
    """The code typed in `field` for `own` (None: a new row of `model`), or None with the error
    `taken` on the field when another row already has it."""
    code = field.data.strip()
    if code_taken(model, code, own.id if own else None):
        field.errors.append(taken)
        return None
    return code


def switch_active(row, active: bool, action: str, target: str, done: str) -> None:
    """Turn `row` on or off, audit `action` on `target`, commit, and tell the user `done`."""
    row.active = active
    audit(action, target=target)
    db.session.commit()
    flash(done, "success")


def show_secret(title: str, secret: str, explanation: str, back: str):
    """The one page that shows a secret: not cached, not stored anywhere in clear."""
    response = make_response(
        render_template(
            "admin/secret.html", title=title, secret=secret, explanation=explanation, back=back
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
