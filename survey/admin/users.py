"""Users: invite, change role and scope, disable, reset password.

An initial password is shown exactly once (`show_secret`); only its hash is stored.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.admin import bp
from survey.admin.common import (
    agency_by_id,
    agency_choices,
    get_or_404,
    require_confirm,
    scoped,
    show_secret,
    switch_active,
)
from survey.admin.forms import (
    ROLE_LABELS,
    ConfirmForm,
    NewUserForm,
    UserForm,
)
from survey.audit import audit
from survey.errors import abort_with
from survey.extensions import db
from survey.models import Role, User
from survey.security import hash_password


def _new_password() -> str:
    return secrets.token_urlsafe(12)


@bp.route("/users")
def users():
    rows = list(
        db.session.scalars(
            scoped(sa.select(User), User.agency_id).order_by(User.active.desc(), User.email)
        )
    )
    return render_template(
        "admin/users.html", users=rows, role_labels=ROLE_LABELS, form=ConfirmForm()
    )


def _user_form(form_class, user: User | None):
    form = form_class()
    form.agency.choices = agency_choices(_("(all agencies)"), active=False)
    if request.method == "GET" and user is not None:
        form.email.data, form.name.data = user.email, user.name
        form.role.data = str(user.role)
        form.agency.data = str(user.agency_id or "")
    elif request.method == "GET":
        form.role.data = Role.ANALYST.value
    return form


def _email_taken(email: str, own_id: int | None) -> bool:
    found = db.session.scalar(sa.select(User.id).where(User.email == email))
    return found is not None and found != own_id


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = _user_form(NewUserForm, None)
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if _email_taken(email, None):
            form.email.errors.append(_("A user with this email already exists."))
        else:
            password = form.password.data or _new_password()
            agency = agency_by_id(form.agency.data)
            user = User(
                email=email,
                name=(form.name.data or "").strip() or None,
                role=Role(form.role.data),
                agency=agency,
                password_hash=hash_password(password),
            )
            db.session.add(user)
            audit(
                "user.create",
                target=email,
                role=form.role.data,
                agency=agency.code if agency else None,
            )
            db.session.commit()
            if form.password.data:
                flash(_("User %(email)s created.", email=email), "success")
                return redirect(url_for("admin.users"), 303)
            return show_secret(
                _("User %(email)s created", email=email),
                password,
                _(
                    "This is the initial password. Give it to the person in a safe way; it will not be shown again."
                ),
                url_for("admin.users"),
            )
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = get_or_404(User, user_id)
    form = _user_form(UserForm, user)
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if _email_taken(email, user.id):
            form.email.errors.append(_("A user with this email already exists."))
        elif user.id == current_user.id and form.role.data != Role.ADMIN.value:
            form.role.errors.append(
                _("You cannot remove your own administrator role. Ask another administrator.")
            )
        else:
            agency = agency_by_id(form.agency.data)
            user.email, user.name = email, (form.name.data or "").strip() or None
            user.role, user.agency = Role(form.role.data), agency
            audit(
                "user.update",
                target=email,
                role=form.role.data,
                agency=agency.code if agency else None,
            )
            db.session.commit()
            flash(_("User %(email)s saved.", email=email), "success")
            return redirect(url_for("admin.users"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user), status


@bp.post("/users/<int:user_id>/<any(disable, enable):action>")
def user_active(user_id: int, action: str):
    user = get_or_404(User, user_id)
    require_confirm()
    if user.id == current_user.id:
        abort_with(409, _("You cannot disable your own account."))
    active = action == "enable"
    switch_active(
        user,
        active,
        f"user.{action}",
        user.email,
        _("%(email)s can sign in again.", email=user.email)
        if active
        else _("%(email)s can no longer sign in.", email=user.email),
    )
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<int:user_id>/reset-password")
def user_reset_password(user_id: int):
    user = get_or_404(User, user_id)
    require_confirm()
    password = _new_password()
    user.password_hash = hash_password(password)
    audit("user.reset_password", target=user.email)
    db.session.commit()
    return show_secret(
        _("New password for %(email)s", email=user.email),
        password,
        _(
            "The old password no longer works. Give this one to the person in a safe way; it will not be shown again."
        ),
        url_for("admin.users"),
    )
