"""The overview and the agencies (tree, mergers, export); desks and posters are in desks.py."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.admin import bp
from survey.admin.common import (
    agency_by_id,
    agency_choices,
    free_code,
    get_or_404,
    questionnaire_choices,
    require_changeable,
    require_confirm,
    scoped,
    switch_active,
)
from survey.admin.forms import (
    KIND_LABELS,
    LEVEL_LABELS,
    AgencyForm,
    ConfirmForm,
    MergeForm,
    PosterForm,
    parse_id,
)
from survey.admin.tree import (
    TreeError,
    check_parent,
    merge,
    ordered_tree,
    why_not_delete,
)
from survey.audit import audit
from survey.collation import by_name
from survey.errors import abort_with
from survey.extensions import db
from survey.imports import export_agencies
from survey.links import survey_url
from survey.models import (
    Agency,
    ApiKey,
    Desk,
    Kind,
    Level,
    Questionnaire,
    Response,
    Target,
    User,
)
from survey.periods import local_today
from survey.scope import is_scope_root, user_scope


def _count(model, *where, agency=None) -> int:
    """Rows of `model`; with `agency` (its agency column), only those in the user's scope."""
    query = sa.select(sa.func.count()).select_from(model).where(*where)
    if agency is not None:
        query = scoped(query, agency)
    return db.session.scalar(query) or 0


@bp.route("/")
def index():
    counts = {
        "agencies": _count(Agency, Agency.active, agency=Agency.id),
        "desks": _count(Desk, Desk.active, agency=Desk.agency_id),
        "questionnaires": _count(Questionnaire),
        "targets": _count(Target),
        "users": _count(User, User.active, agency=User.agency_id),
        "api_keys": _count(ApiKey, ApiKey.revoked_at.is_(None), agency=ApiKey.agency_id),
        "paper": _count(Response, Response.channel == "paper", agency=Response.agency_id),
    }
    return render_template("admin/index.html", counts=counts)


@bp.app_template_filter("level_label")
def level_label(value) -> str:
    return str(LEVEL_LABELS.get(Level(value), value))


@bp.app_template_filter("kind_label")
def kind_label(value) -> str:
    return str(KIND_LABELS.get(Kind(value), value))


# ---- agencies --------------------------------------------------------------------------------


@bp.route("/agencies")
def agencies():
    desk_counts = dict(
        db.session.execute(
            sa.select(Desk.agency_id, sa.func.count()).where(Desk.active).group_by(Desk.agency_id)
        ).all()
    )
    scope = user_scope()
    tree = ordered_tree(
        None
        if scope is None
        else list(db.session.scalars(sa.select(Agency).where(Agency.id.in_(scope))))
    )
    return render_template(
        "admin/agencies.html", tree=tree, desk_counts=desk_counts, form=ConfirmForm()
    )


def _agency_form(agency: Agency | None) -> AgencyForm:
    form = AgencyForm(obj=None)
    form.parent.choices = agency_choices(_("(none: top of the tree)"), active=False)
    form.questionnaire.choices = questionnaire_choices(_("(inherited)"))
    if request.method == "GET":
        if agency is not None:
            form.code.data, form.name.data, form.name_en.data = (
                agency.code,
                agency.name,
                agency.name_en,
            )
            form.parent.data = str(agency.parent_id or "")
            form.level.data, form.kind.data = str(agency.level), str(agency.kind)
            form.questionnaire.data = str(agency.questionnaire_id or "")
        else:
            form.parent.data = request.args.get("parent") or _default_parent(form)
            form.level.data = Level.COMMUNE.value
    return form


def _default_parent(form: AgencyForm) -> str:
    """A new agency goes under the province (the one top-level province agency, when the
    administrator may choose it), so that a second top level is not one click away."""
    roots = list(
        db.session.scalars(
            sa.select(Agency.id).where(
                Agency.parent_id.is_(None), Agency.level == Level.PROVINCE, Agency.active
            )
        )
    )
    offered = {choice.value for choice in form.parent.choices}
    if len(roots) == 1 and str(roots[0]) in offered:
        return str(roots[0])
    return ""


def _save_agency(form: AgencyForm, agency: Agency | None) -> Agency | None:
    code = free_code(form.code, Agency, agency, _("Another agency already has this code."))
    if code is None:
        return None
    parent = agency_by_id(form.parent.data)
    target = agency or Agency()
    if agency is not None:
        try:
            check_parent(agency, parent)
        except TreeError as error:
            form.parent.errors.append(str(error))
            return None
    target.code, target.name = code, form.name.data.strip()
    target.name_en = (form.name_en.data or "").strip() or None
    target.parent = parent
    target.level, target.kind = Level(form.level.data), Kind(form.kind.data)
    target.questionnaire_id = parse_id(form.questionnaire.data)
    if agency is None:
        db.session.add(target)
    db.session.flush()
    audit(
        "agency.update" if agency else "agency.create",
        target=code,
        parent=parent.code if parent else None,
        level=form.level.data,
        kind=form.kind.data,
        questionnaire=target.questionnaire_id,
    )
    db.session.commit()
    return target


@bp.route("/agencies/new", methods=["GET", "POST"])
def agency_new():
    form = _agency_form(None)
    if form.validate_on_submit():
        agency = _save_agency(form, None)
        if agency is not None:
            flash(_("Agency %(name)s created.", name=agency.name), "success")
            return redirect(url_for("admin.agency", agency_id=agency.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/agency_form.html", form=form, agency=None), status


@bp.route("/agencies/<int:agency_id>")
def agency(agency_id: int):
    agency = get_or_404(Agency, agency_id)
    return render_template(
        "admin/agency.html",
        agency=agency,
        desks=[
            (desk, survey_url(desk))
            for desk in by_name(agency.desks, lambda d: d.name, lambda d: d.code)
        ],
        delete_blocked=why_not_delete(agency),
        changeable=not is_scope_root(agency),
        form=ConfirmForm(),
        poster_form=PosterForm(),
        merged_from=list(
            db.session.scalars(
                sa.select(Agency).where(Agency.merged_into_id == agency.id).order_by(Agency.code)
            )
        ),
    )


@bp.route("/agencies/<int:agency_id>/edit", methods=["GET", "POST"])
def agency_edit(agency_id: int):
    agency = get_or_404(Agency, agency_id)
    require_changeable(agency)
    form = _agency_form(agency)
    if form.validate_on_submit() and _save_agency(form, agency) is not None:
        flash(_("Agency %(name)s saved.", name=agency.name), "success")
        return redirect(url_for("admin.agency", agency_id=agency.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/agency_form.html", form=form, agency=agency), status


@bp.post("/agencies/<int:agency_id>/deactivate")
def agency_deactivate(agency_id: int):
    agency = get_or_404(Agency, agency_id)
    require_changeable(agency)
    require_confirm()
    switch_active(
        agency,
        False,
        "agency.deactivate",
        agency.code,
        _("%(name)s is deactivated: its desks no longer take ratings.", name=agency.name),
    )
    return redirect(url_for("admin.agency", agency_id=agency.id), 303)


@bp.post("/agencies/<int:agency_id>/activate")
def agency_activate(agency_id: int):
    agency = get_or_404(Agency, agency_id)
    require_changeable(agency)
    require_confirm()
    if agency.merged_into_id is not None:
        abort_with(
            409,
            _(
                "%(name)s was merged into another agency and cannot be reactivated.",
                name=agency.name,
            ),
        )
    switch_active(
        agency,
        True,
        "agency.activate",
        agency.code,
        _("%(name)s is active again.", name=agency.name),
    )
    return redirect(url_for("admin.agency", agency_id=agency.id), 303)


@bp.post("/agencies/<int:agency_id>/delete")
def agency_delete(agency_id: int):
    agency = get_or_404(Agency, agency_id)
    require_changeable(agency)
    require_confirm()
    reason = why_not_delete(agency)
    if reason:
        abort_with(
            409, _("%(name)s cannot be deleted. %(reason)s", name=agency.name, reason=reason)
        )
    name, code = agency.name, agency.code
    db.session.delete(agency)
    audit("agency.delete", target=code)
    db.session.commit()
    flash(_("Agency %(name)s deleted.", name=name), "success")
    return redirect(url_for("admin.agencies"), 303)


@bp.route("/agencies/merge", methods=["GET", "POST"])
def agency_merge():
    form = MergeForm()
    # An agency administrator's own agency cannot be merged away (require_changeable).
    own = {current_user.agency_id} if user_scope() is not None else set()
    # Inactive agencies may be merged too: the predecessors of a merger done before hailong.
    form.sources.choices = agency_choices(exclude=own | _merged_ids(), active=False)
    form.target.choices = agency_choices()
    if request.method == "GET":
        form.target.data = request.args.get("target", "")
        form.merged_on.data = local_today()
    if form.validate_on_submit():
        target = agency_by_id(form.target.data)
        sources = [db.session.get(Agency, int(value)) for value in form.sources.data]
        for source in sources:
            require_changeable(source)
        try:
            summary = merge(sources, target, merged_on=form.merged_on.data)
        except TreeError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(
                _(
                    "Merged %(sources)s into %(target)s on %(date)s: %(desks)d desks and %(children)d sub-agencies moved.",
                    sources=", ".join(summary.sources),
                    target=summary.target,
                    date=summary.merged_on.strftime("%d/%m/%Y"),
                    desks=summary.desks,
                    children=summary.children,
                ),
                "success",
            )
            if summary.users_left:
                flash(
                    _(
                        "%(count)d users are still limited to the old agencies: review their scope in Users.",
                        count=summary.users_left,
                    ),
                    "info",
                )
            return redirect(url_for("admin.agency", agency_id=target.id), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/merge.html", form=form), status


def _merged_ids() -> set[int]:
    return set(db.session.scalars(sa.select(Agency.id).where(Agency.merged_into_id.is_not(None))))


@bp.route("/agencies/export.<fmt>")
def agencies_export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort_with(404, _("Export as .csv or .xlsx."))
    data = export_agencies(fmt, user_scope())
    mimetype = (
        "text/csv"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=f"agencies.{fmt}"
    )


# ---- desks -----------------------------------------------------------------------------------
