"""Sign-in with throttling on repeated failures, and sign-out."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from survey.audit import audit
from survey.auth import bp
from survey.auth.forms import LoginForm
from survey.extensions import db
from survey.models import LoginAttempt, User, utcnow
from survey.security import verify_password

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def _recent_failures(email: str) -> int:
    since = utcnow() - WINDOW
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(LoginAttempt.email == email, LoginAttempt.at >= since)
        )
        or 0
    )


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if _recent_failures(email) >= MAX_FAILURES:
            form.form_errors.append(
                _(
                    "Too many failed attempts. Please wait %(minutes)d minutes and try again.",
                    minutes=15,
                )
            )
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if (
            user is None
            or not user.active
            or not verify_password(user.password_hash, form.password.data)
        ):
            db.session.add(LoginAttempt(email=email))
            db.session.commit()
            form.form_errors.append(_("The email or password is not correct."))
            status = 401
        else:
            db.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.email == email))
            user.last_login_at = utcnow()
            audit("login", user=user)
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("dashboard.index"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
