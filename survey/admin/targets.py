"""The target table, and which target applies to each agency on a given date."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.admin import bp
from survey.admin.common import agency_by_id, agency_choices, get_or_404, require_confirm
from survey.admin.forms import ConfirmForm, TargetForm, TargetLookupForm, parse_percent
from survey.admin.tree import ordered_tree
from survey.audit import audit
from survey.extensions import db
from survey.models import Kind, Target, TargetScope
from survey.periods import local_today
from survey.reporting.targets import TargetResolver


def applicable_targets(day: date) -> list[tuple]:
    """(agency, depth, rule or None) for every active agency, by the rules reports use."""
    tree = ordered_tree()
    rules = TargetResolver.on(day).rules(
        {agency.id: agency.parent_id for agency, _depth in tree},
        {agency.id: str(agency.kind) for agency, _depth in tree},
    )
    return [(agency, depth, rules[agency.id]) for agency, depth in tree if agency.active]


@bp.route("/targets")
def targets():
    lookup = TargetLookupForm(request.args)
    valid = lookup.validate()
    day = lookup.day.data if valid and lookup.day.data else local_today()
    rows = list(
        db.session.scalars(sa.select(Target).order_by(Target.valid_from.desc(), Target.id.desc()))
    )
    return render_template(
        "admin/targets.html",
        targets=rows,
        lookup=lookup,
        day=day,
        applies=applicable_targets(day),
        form=ConfirmForm(),
    ), (200 if valid else 400)


def _target_form(target: Target | None) -> TargetForm:
    form = TargetForm()
    form.agency.choices = agency_choices("—", active=False)
    if request.method == "GET" and target is not None:
        form.rate.data = f"{target.rate * 100:g}".replace(".", ",")
        form.valid_from.data, form.valid_to.data = target.valid_from, target.valid_to
        form.scope.data = str(target.scope)
        form.kind.data = str(target.kind) if target.kind else ""
        form.agency.data = str(target.agency_id or "")
        form.note.data = target.note
    return form


def _save_target(form: TargetForm, target: Target | None) -> Target:
    row = target or Target()
    scope = TargetScope(form.scope.data)
    row.rate = float(parse_percent(form.rate.data)) / 100
    row.valid_from, row.valid_to = form.valid_from.data, form.valid_to.data
    row.scope = scope
    row.kind = Kind(form.kind.data) if scope == TargetScope.KIND else None
    agency = agency_by_id(form.agency.data) if scope == TargetScope.AGENCY else None
    row.agency_id = agency.id if agency else None
    row.note = (form.note.data or "").strip() or None
    if target is None:
        db.session.add(row)
    db.session.flush()
    audit(
        "target.update" if target else "target.create",
        target=str(row.id),
        rate=row.rate,
        scope=scope.value,
        kind=form.kind.data or None,
        agency=agency.code if agency else None,
        valid_from=row.valid_from.isoformat(),
        valid_to=row.valid_to.isoformat() if row.valid_to else None,
    )
    db.session.commit()
    return row


@bp.route("/targets/new", methods=["GET", "POST"])
@bp.route("/targets/<int:target_id>/edit", methods=["GET", "POST"])
def target_edit(target_id: int | None = None):
    target = get_or_404(Target, target_id) if target_id is not None else None
    form = _target_form(target)
    if form.validate_on_submit():
        _save_target(form, target)
        flash(_("Target saved."), "success")
        return redirect(url_for("admin.targets"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("admin/target_form.html", form=form, target=target), status


@bp.post("/targets/<int:target_id>/delete")
def target_delete(target_id: int):
    target = get_or_404(Target, target_id)
    require_confirm()
    audit("target.delete", target=str(target.id), rate=target.rate)
    db.session.delete(target)
    db.session.commit()
    flash(_("Target deleted."), "success")
    return redirect(url_for("admin.targets"), 303)
