"""Administrators' kiosk pages at /admin/kiosks: list, create (with a one-time enrolment QR
code), new enrolment code, revoke, and settings."""

from __future__ import annotations

from dataclasses import replace

import segno
import sqlalchemy as sa
from babel.dates import get_day_names
from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from survey.admin.common import language_choices
from survey.audit import audit
from survey.auth.decorators import admin_required
from survey.collation import sort_key
from survey.extensions import db
from survey.fields import choices
from survey.kiosk import admin_bp, enrolment
from survey.kiosk.forms import ConfirmForm, NewKioskForm, SettingsForm
from survey.kiosk_settings import KioskSettings
from survey.models import Agency, Desk, Kiosk, utcnow
from survey.scope import require_agency_in_scope, user_scope


@admin_bp.context_processor
def _layout() -> dict:
    """These pages share the administration's navigation when that area is installed."""
    return {
        "admin_layout": current_app.jinja_env.select_template(["admin/layout.html", "base.html"])
    }


def _kiosk(kiosk_id: int) -> Kiosk:
    """The kiosk, if the signed-in administrator's scope includes its desk (404/403 otherwise)."""
    kiosk = db.session.get(Kiosk, kiosk_id)
    require_agency_in_scope(kiosk.desk.agency if kiosk else None, user_scope())
    return kiosk


def _in_scope(query, scope):
    return query if scope is None else query.where(Desk.agency_id.in_(scope))


def _desk_choices() -> list:
    rows = db.session.execute(
        _in_scope(
            sa.select(Desk.id, Desk.name, Desk.code, Agency.name)
            .join(Agency, Desk.agency_id == Agency.id)
            .where(Desk.active, Agency.active),
            user_scope(),
        )
    )
    rows = sorted(rows, key=lambda r: (sort_key(r[3]), sort_key(r[1]), r[2]))
    return choices((str(d_id), f"{agency} › {name} ({code})") for d_id, name, code, agency in rows)


def _day_names(locale: str) -> list[str]:
    """Monday..Sunday in the page's language ("Thứ Hai", ...), from the CLDR data in Babel."""
    names = get_day_names("wide", locale=locale)
    return [names[i][:1].upper() + names[i][1:] for i in range(7)]


def _qr_svg(url: str) -> Markup:
    # segno writes presentation attributes, not style="": fine under the strict CSP.
    svg = segno.make(url, error="m").svg_inline(
        scale=7, border=2, svgclass="qr", title=_("Enrolment QR code")
    )
    return Markup(svg)


def _show_code(kiosk: Kiosk, code: str, status: int = 200):
    url = enrolment.enrol_url(code)
    page = render_template(
        "kiosk/admin/code.html",
        kiosk=kiosk,
        code=code,
        url=url,
        qr=_qr_svg(url),
        enrol_page=url.rsplit("/", 1)[0],
    )
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"  # the code is shown once
    return response


@admin_bp.get("")
@admin_required
def index():
    kiosks = db.session.scalars(
        _in_scope(
            sa.select(Kiosk)
            .join(Desk, Kiosk.desk_id == Desk.id)
            .join(Agency, Desk.agency_id == Agency.id),
            user_scope(),
        )
    ).all()
    kiosks.sort(
        key=lambda k: (
            sort_key(k.desk.agency.name),
            sort_key(k.desk.name),
            sort_key(k.name),
            k.id,
        )
    )
    now = utcnow()
    return render_template(
        "kiosk/admin/index.html",
        kiosks=kiosks,
        states={k.id: enrolment.state(k, now) for k in kiosks},
        now=now,
    )


@admin_bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    form = NewKioskForm()
    form.desk.choices = _desk_choices()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("kiosk/admin/new.html", form=form), status
    desk = db.session.get(Desk, int(form.desk.data))
    kiosk = Kiosk(desk=desk, name=form.name.data.strip(), settings=KioskSettings().to_json())
    db.session.add(kiosk)
    db.session.flush()
    code = enrolment.start(kiosk)
    audit("kiosk.create", target=f"kiosk:{kiosk.id}", desk=desk.code, name=kiosk.name)
    db.session.commit()
    return _show_code(kiosk, code, 201)


@admin_bp.post("/<int:kiosk_id>/enrolment")
@admin_required
def new_code(kiosk_id: int):
    kiosk = _kiosk(kiosk_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("kiosks.index"))
    code = enrolment.start(kiosk)
    audit("kiosk.enrolment_code", target=f"kiosk:{kiosk.id}", desk=kiosk.desk.code)
    db.session.commit()
    return _show_code(kiosk, code)


@admin_bp.route("/<int:kiosk_id>/revoke", methods=["GET", "POST"])
@admin_required
def revoke(kiosk_id: int):
    kiosk = _kiosk(kiosk_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        enrolment.revoke(kiosk)
        audit("kiosk.revoke", target=f"kiosk:{kiosk.id}", desk=kiosk.desk.code)
        db.session.commit()
        flash(
            _("The kiosk “%(name)s” is revoked: it stops taking ratings.", name=kiosk.name),
            "success",
        )
        return redirect(url_for("kiosks.index"))
    return render_template("kiosk/admin/revoke.html", kiosk=kiosk, form=form)


@admin_bp.route("/<int:kiosk_id>/settings", methods=["GET", "POST"])
@admin_required
def settings(kiosk_id: int):
    kiosk = _kiosk(kiosk_id)
    questionnaire = kiosk.desk.current_questionnaire()
    current = KioskSettings.from_json(kiosk.settings)
    # Criteria of an older questionnaire version can't be shown, so they can't stay chosen.
    codes = questionnaire.criterion_codes()
    current = replace(current, criteria=tuple(c for c in current.criteria if c in codes))
    form = SettingsForm(data=SettingsForm.initial(kiosk.name, current))
    locale = str(get_locale())
    form.criteria.choices = choices(
        (c["code"], questionnaire.label(c, locale)) for c in questionnaire.criteria
    )
    form.languages.choices = [*choices([("en", "English – Tiếng Anh (en)")]), *language_choices()]
    if form.validate_on_submit():
        new = form.settings()
        kiosk.name = form.name.data.strip()
        kiosk.settings = new.to_json()
        audit("kiosk.settings", target=f"kiosk:{kiosk.id}", **new.to_json())
        db.session.commit()
        flash(_("Settings saved. The kiosk picks them up within 5 minutes."), "success")
        return redirect(url_for("kiosks.index"))
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "kiosk/admin/settings.html",
            kiosk=kiosk,
            form=form,
            days=zip(form.days(), _day_names(locale), strict=True),
        ),
        status,
    )
