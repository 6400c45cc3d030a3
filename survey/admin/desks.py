"""Desks (create, edit, activate, delete) and their printed QR posters."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from survey import posters
from survey.admin import bp
from survey.admin.common import (
    agency_by_id,
    agency_choices,
    free_code,
    get_or_404,
    language_choices,
    questionnaire_choices,
    require_confirm,
    switch_active,
)
from survey.admin.forms import DeskForm, PosterForm, parse_id
from survey.admin.tree import desk_has_history
from survey.audit import audit
from survey.errors import abort_with
from survey.extensions import db
from survey.links import survey_url
from survey.models import Agency, Desk
from survey.scope import require_agency_in_scope, user_scope


def _desk_form(desk: Desk | None, agency: Agency | None) -> DeskForm:
    form = DeskForm()
    # A desk of an inactive agency may stay there; new desks go to active agencies.
    form.agency.choices = agency_choices(active=desk is None or desk.agency.active)
    form.questionnaire.choices = questionnaire_choices(_("(the agency's)"))
    form.languages.choices = language_choices()
    if request.method == "GET":
        if desk is not None:
            form.code.data, form.name.data = desk.code, desk.name
            form.agency.data = str(desk.agency_id)
            form.questionnaire.data = str(desk.questionnaire_id or "")
            form.languages.data = list(desk.languages or [])
        elif agency is not None:
            form.agency.data = str(agency.id)
    return form


def _save_desk(form: DeskForm, desk: Desk | None) -> Desk | None:
    code = free_code(form.code, Desk, desk, _("Another desk already has this code."))
    if code is None:
        return None
    agency = agency_by_id(form.agency.data)
    target = desk or Desk()
    target.code, target.name, target.agency = code, form.name.data.strip(), agency
    target.questionnaire_id = parse_id(form.questionnaire.data)
    target.languages = list(form.languages.data or [])
    if desk is None:
        db.session.add(target)
    db.session.flush()
    audit(
        "desk.update" if desk else "desk.create",
        target=code,
        agency=agency.code,
        questionnaire=target.questionnaire_id,
    )
    db.session.commit()
    return target


@bp.route("/agencies/<int:agency_id>/desks/new", methods=["GET", "POST"])
def desk_new(agency_id: int):
    agency = get_or_404(Agency, agency_id)
    form = _desk_form(None, agency)
    if form.validate_on_submit():
        desk = _save_desk(form, None)
        if desk is not None:
            flash(_("Desk %(name)s created.", name=desk.name), "success")
            return redirect(url_for("admin.agency", agency_id=desk.agency_id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/desk_form.html", form=form, desk=None, agency=agency), status


@bp.route("/desks/<int:desk_id>/edit", methods=["GET", "POST"])
def desk_edit(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    form = _desk_form(desk, desk.agency)
    if form.validate_on_submit() and _save_desk(form, desk) is not None:
        flash(_("Desk %(name)s saved.", name=desk.name), "success")
        return redirect(url_for("admin.agency", agency_id=desk.agency_id), 303)
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "admin/desk_form.html", form=form, desk=desk, agency=desk.agency, url=survey_url(desk)
        ),
        status,
    )


@bp.post("/desks/<int:desk_id>/<any(activate, deactivate):action>")
def desk_active(desk_id: int, action: str):
    desk = get_or_404(Desk, desk_id)
    require_confirm()
    active = action == "activate"
    switch_active(
        desk,
        active,
        f"desk.{action}",
        desk.code,
        _("Desk %(name)s takes ratings again.", name=desk.name)
        if active
        else _("Desk %(name)s no longer takes ratings.", name=desk.name),
    )
    return redirect(url_for("admin.agency", agency_id=desk.agency_id), 303)


@bp.post("/desks/<int:desk_id>/delete")
def desk_delete(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    require_confirm()
    if desk_has_history(desk):
        abort_with(
            409,
            _(
                "Desk %(name)s has responses, kiosks or tickets: deactivate it instead, so that its history stays.",
                name=desk.name,
            ),
        )
    agency_id, name = desk.agency_id, desk.name
    audit("desk.delete", target=desk.code)
    db.session.delete(desk)
    db.session.commit()
    flash(_("Desk %(name)s deleted.", name=name), "success")
    return redirect(url_for("admin.agency", agency_id=agency_id), 303)


# ---- posters ---------------------------------------------------------------------------------


@bp.route("/posters.pdf")
def posters_pdf():
    form = PosterForm(request.args)
    if not form.validate():
        abort_with(400, _("Choose the paper size A4 or A5."))
    desk_id, agency_id = parse_id(request.args.get("desk")), parse_id(request.args.get("agency"))
    if desk_id is not None:
        desk = get_or_404(Desk, desk_id)
        require_agency_in_scope(desk.agency, user_scope())
        desks, name = [desk], desk.code
    elif agency_id is not None:
        agency = require_agency_in_scope(db.session.get(Agency, agency_id), user_scope())
        desks = posters.desks_for(agency=agency, subtree=form.subtree.data)
        name = agency.code + ("-all" if form.subtree.data else "")
    else:
        abort_with(400, _("Choose a desk or an agency to print posters for."))
    if not desks:
        abort_with(404, _("There are no active desks to print posters for. Add a desk first."))
    pdf = posters.render(
        [posters.Poster(desk.agency.name, desk.name, survey_url(desk)) for desk in desks],
        form.size.data,
    )
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"qr-{name}-{form.size.data}.pdf",
    )
