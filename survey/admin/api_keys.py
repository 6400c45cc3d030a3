"""API keys for integrators: list, create (the key is shown once), revoke."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.admin import bp
from survey.admin.common import (
    agency_by_id,
    agency_choices,
    get_or_404,
    require_confirm,
    scoped,
    show_secret,
)
from survey.admin.forms import (
    SCOPE_LABELS,
    ApiKeyForm,
    ConfirmForm,
)
from survey.audit import audit
from survey.credentials import API_KEY_SCOPES, issue_api_key
from survey.extensions import db
from survey.fields import choices
from survey.models import ApiKey, utcnow


@bp.route("/api-keys")
def api_keys():
    rows = list(
        db.session.scalars(
            scoped(sa.select(ApiKey), ApiKey.agency_id).order_by(
                ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc()
            )
        )
    )
    return render_template(
        "admin/api_keys.html", keys=rows, scope_labels=SCOPE_LABELS, form=ConfirmForm()
    )


@bp.route("/api-keys/new", methods=["GET", "POST"])
def api_key_new():
    form = ApiKeyForm()
    form.scopes.choices = choices((scope, SCOPE_LABELS[scope]) for scope in API_KEY_SCOPES)
    form.agency.choices = agency_choices(_("(all agencies)"))
    if form.validate_on_submit():
        agency = agency_by_id(form.agency.data)
        row, key = issue_api_key(
            form.name.data.strip(), list(form.scopes.data), agency.id if agency else None
        )
        db.session.flush()
        audit(
            "api_key.create",
            target=row.prefix,
            name=row.name,
            scopes=row.scopes,
            agency=agency.code if agency else None,
        )
        db.session.commit()
        return show_secret(
            _("API key %(name)s created", name=row.name),
            key,
            _(
                "Copy the key now and give it to the integrator: only its hash is stored, so it will not be shown again. Send it as the header Authorization: Bearer <key>."
            ),
            url_for("admin.api_keys"),
        )
    status = 400 if request.method == "POST" else 200
    return render_template("admin/api_key_form.html", form=form), status


@bp.post("/api-keys/<int:key_id>/revoke")
def api_key_revoke(key_id: int):
    row = get_or_404(ApiKey, key_id)
    require_confirm()
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit("api_key.revoke", target=row.prefix, name=row.name)
        db.session.commit()
    flash(_("API key %(name)s is revoked: it no longer works.", name=row.name), "success")
    return redirect(url_for("admin.api_keys"), 303)
