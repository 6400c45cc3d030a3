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
from survey.security import client_hash, hash_password, new_token, verify_password

# Throttling counts failed sign-ins per (account, client address) and per client address, so
# that nobody can lock the owner out from elsewhere (a lock on the account alone would let anyone
# lock out the administrator), and one client cannot try many accounts. Stored in the database:
# it holds across workers. Addresses are kept as the daily keyed hash (security.client_hash).
MAX_FAILURES = 5  # per account and client address
MAX_CLIENT_FAILURES = 20  # per client address, whatever the accounts
WINDOW = timedelta(minutes=15)
_dummy_hash: list[str] = []


def _throttled(email: str, client: str | None) -> bool:
    since = utcnow() - WINDOW
    recent = sa.select(sa.func.count()).where(LoginAttempt.at >= since)
    if client is None:
        return (db.session.scalar(recent.where(LoginAttempt.email == email)) or 0) >= MAX_FAILURES
    by_client = recent.where(LoginAttempt.client == client)
    if (db.session.scalar(by_client) or 0) >= MAX_CLIENT_FAILURES:
        return True
    return (db.session.scalar(by_client.where(LoginAttempt.email == email)) or 0) >= MAX_FAILURES


def _password_matches(user: User | None, password: str) -> bool:
    """Verify the password; for an unknown or disabled account, verify it against a dummy
    hash: every answer costs one Argon2 verification, so the timing tells no one which
    emails exist."""
    if user is None or not user.active:
        if not _dummy_hash:
            _dummy_hash.append(hash_password(new_token()))
        verify_password(_dummy_hash[0], password)
        return False
    return verify_password(user.password_hash, password)


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
        client = client_hash(request.remote_addr)
        if _throttled(email, client):
            form.form_errors.append(
                _(
                    "Too many failed attempts. Please wait %(minutes)d minutes and try again.",
                    minutes=15,
                )
            )
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if not _password_matches(user, form.password.data):
            db.session.add(LoginAttempt(email=email, client=client))
            db.session.commit()
            form.form_errors.append(_("The email or password is not correct."))
            status = 401
        else:
            db.session.execute(
                sa.delete(LoginAttempt).where(
                    LoginAttempt.email == email, LoginAttempt.client == client
                )
            )
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
    """Sign-out ends every session of the user, here and elsewhere, and the remember cookie
    (a copied session cookie no longer works)."""
    user = current_user._get_current_object()
    user.end_sessions()
    audit("logout", user=user)
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
