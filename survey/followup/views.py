"""Pages of the follow-up sample for the staff who make the calls: the draws, a draw's
dossiers with their outcomes and the comparison with the self-selected ratings, and the form
that records one call. Administrators and analysts only (not leaders, whose agency is being
rated), confined to their agency scope; dossier codes never leave these pages but in the
call list."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, Optional

from survey.audit import audit
from survey.auth.decorators import reviewer_required, role_required
from survey.errors import abort_with
from survey.extensions import db
from survey.fields import ChoiceRadioField, choices
from survey.followup import bp
from survey.followup.forms import DrawForm
from survey.followup.models import FollowupDraw, FollowupItem, Outcome
from survey.followup.service import FollowupError, call_list, comparison, draw, record_outcome
from survey.models import Agency, Role
from survey.periods import PeriodError
from survey.reporting import formatting
from survey.scope import user_scope

OUTCOME_LABELS = {
    Outcome.PENDING.value: _l("Not called yet"),
    Outcome.ANSWERED.value: _l("Answered"),
    Outcome.REFUSED.value: _l("Refused"),
    Outcome.UNREACHABLE.value: _l("Unreachable"),
}


@bp.context_processor
def helpers() -> dict:
    return {"fmt": formatting}


def _visible(followup: FollowupDraw) -> bool:
    scope = user_scope()
    if scope is None:
        return True
    return followup.agency_id is not None and followup.agency_id in scope


def _draw(draw_id: int) -> FollowupDraw:
    followup = db.session.get(FollowupDraw, draw_id)
    if followup is None:
        abort_with(404, _("This follow-up draw does not exist."))
    if not _visible(followup):
        abort_with(403, _("This follow-up draw is outside your agency."))
    return followup


def _draw_form() -> DrawForm:
    """The draw form; an administrator limited to an agency draws within its subtree only (the
    choices hold nothing else, and no "every agency")."""
    from survey.admin.common import agency_choices

    form = DrawForm()
    form.agency.choices = agency_choices(empty_label=_("Every agency"))
    return form


def _index(form: DrawForm | None, status: int = 200, error: str | None = None):
    draws = [
        d
        for d in db.session.scalars(sa.select(FollowupDraw).order_by(FollowupDraw.id.desc()))
        if _visible(d)
    ]
    return (
        render_template("followup/index.html", draws=draws, form=form, error=error),
        status,
    )


@bp.route("/")
@reviewer_required
def index():
    return _index(_draw_form() if current_user.role == Role.ADMIN else None)


@bp.route("/draws", methods=["POST"])
@role_required(Role.ADMIN)
def new_draw():
    """Draw a sample on the web, as `flask followup draw` does; administrators only."""
    form = _draw_form()
    if not form.validate_on_submit():
        return _index(form, 400)
    agency_code = None
    if form.agency.data:
        agency = db.session.get(Agency, int(form.agency.data))
        agency_code = agency.code if agency is not None else None
    try:
        result = draw(
            form.period.data.strip(),
            form.size.data,
            agency_code=agency_code,
            seed=form.seed.data,
            actor=current_user.email,
        )
    except (FollowupError, PeriodError) as problem:
        db.session.rollback()
        return _index(form, 400, str(problem))
    return redirect(url_for("followup.show", draw_id=result.id), code=303)


@bp.route("/<int:draw_id>")
@reviewer_required
def show(draw_id: int):
    followup = _draw(draw_id)
    return render_template(
        "followup/draw.html",
        followup=followup,
        items=followup.items,
        checks=comparison(followup),
        outcome_labels=OUTCOME_LABELS,
    )


@bp.route("/<int:draw_id>/calls.<any(csv, xlsx):fmt>")
@reviewer_required
def calls(draw_id: int, fmt: str):
    followup = _draw(draw_id)
    audit("followup.call_list", target=str(followup.id), format=fmt)
    db.session.commit()
    media = {
        "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = send_file(
        io.BytesIO(call_list(followup, fmt)),
        mimetype=media[fmt],
        as_attachment=True,
        download_name=f"followup-{followup.id}.{fmt}",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _form(item: FollowupItem):
    questionnaire = item.ticket.desk.current_questionnaire()
    locale = str(get_locale())
    levels = choices(
        (lvl["code"], questionnaire.label(lvl, locale)) for lvl in questionnaire.levels
    )
    attrs = {
        "outcome": ChoiceRadioField(
            _l("Outcome of the call"),
            choices=choices(
                (k, v) for k, v in OUTCOME_LABELS.items() if k != Outcome.PENDING.value
            ),
            validators=[InputRequired(message=_l("Choose the outcome of the call."))],
        ),
        "rating": ChoiceRadioField(
            _l("Overall rating (when the citizen answered)"),
            choices=levels,
            validators=[Optional()],
        ),
    }
    names = []
    for criterion in questionnaire.criteria:
        name = f"c_{criterion['code']}"
        names.append((name, criterion["code"]))
        attrs[name] = ChoiceRadioField(
            questionnaire.label(criterion, locale), choices=levels, validators=[Optional()]
        )
    form = type("FollowupForm", (FlaskForm,), attrs)()
    form.criterion_names = names
    return form


@bp.route("/<int:draw_id>/items/<int:item_id>", methods=["GET", "POST"])
@reviewer_required
def item(draw_id: int, item_id: int):
    followup = _draw(draw_id)
    found = db.session.get(FollowupItem, item_id)
    if found is None or found.draw_id != followup.id:
        abort_with(404, _("This dossier is not in the draw."))
    scope = user_scope()
    if scope is not None and found.agency_id not in scope:
        abort_with(403, _("This follow-up draw is outside your agency."))
    form = _form(found)
    status = 200
    error = None
    if form.validate_on_submit():
        answers = {code: form[name].data for name, code in form.criterion_names if form[name].data}
        try:
            record_outcome(
                found,
                form.outcome.data,
                level=form.rating.data or None,
                answers=answers,
                actor=current_user.email,
            )
        except FollowupError as problem:
            db.session.rollback()
            error, status = str(problem), 400
        else:
            audit("followup.outcome", target=str(found.id), outcome=found.outcome)
            db.session.commit()
            return redirect(url_for("followup.show", draw_id=followup.id), code=303)
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "followup/item.html",
            followup=followup,
            item=found,
            form=form,
            error=error,
            outcome_labels=OUTCOME_LABELS,
        ),
        status,
    )
