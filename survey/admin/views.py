"""The overview, agencies (tree, mergers, export), desks and QR posters."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey import posters
from survey.admin import bp
from survey.admin.common import (
    agency_by_id,
    agency_choices,
    get_or_404,
    language_choices,
    questionnaire_choices,
    require_changeable,
    require_confirm,
    scoped,
)
from survey.admin.forms import (
    KIND_LABELS,
    LEVEL_LABELS,
    AgencyForm,
    ConfirmForm,
    DeskForm,
    MergeForm,
    PosterForm,
    parse_id,
)
from survey.admin.tree import (
    TreeError,
    check_parent,
    desk_has_history,
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
from survey.scope import is_scope_root, require_agency_in_scope, user_scope


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


def _code_taken(model, code: str, own_id: int | None) -> bool:
    found = db.session.scalar(sa.select(model.id).where(model.code == code))
    return found is not None and found != own_id


def _save_agency(form: AgencyForm, agency: Agency | None) -> Agency | None:
    code = form.code.data.strip()
    if _code_taken(Agency, code, agency.id if agency else None):
        form.code.errors.append(_("Another agency already has this code."))
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
    agency.active = False
    audit("agency.deactivate", target=agency.code)
    db.session.commit()
    flash(
        _("%(name)s is deactivated: its desks no longer take ratings.", name=agency.name), "success"
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
    agency.active = True
    audit("agency.activate", target=agency.code)
    db.session.commit()
    flash(_("%(name)s is active again.", name=agency.name), "success")
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
    code = form.code.data.strip()
    if _code_taken(Desk, code, desk.id if desk else None):
        form.code.errors.append(_("Another desk already has this code."))
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
    desk.active = action == "activate"
    audit(f"desk.{action}", target=desk.code)
    db.session.commit()
    if desk.active:
        flash(_("Desk %(name)s takes ratings again.", name=desk.name), "success")
    else:
        flash(_("Desk %(name)s no longer takes ratings.", name=desk.name), "success")
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
