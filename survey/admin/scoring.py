"""The province's indicator-score settings: points of each level and the class thresholds
(survey.scoring). For global administrators only: they are the province's, not an agency's
(survey.scope.AGENCY_ADMIN_ENDPOINTS does not list these pages)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from survey import scoring
from survey.admin import bp
from survey.admin.common import require_confirm
from survey.admin.forms import ConfirmForm
from survey.admin.scoring_forms import scoring_form
from survey.audit import audit
from survey.extensions import db
from survey.models import Questionnaire


def _levels() -> list[tuple[str, str]]:
    """Level codes of the published questionnaires (the default's first), with a label, and
    any code the settings already give points to."""
    locale = str(get_locale() or "vi")
    found: dict[str, str] = {}
    for version in db.session.scalars(
        sa.select(Questionnaire)
        .where(Questionnaire.published_at.is_not(None))
        .order_by(Questionnaire.is_default.desc(), Questionnaire.id)
    ):
        for item in version.levels:
            labels = item.get("label") or {}
            found.setdefault(item["code"], labels.get(locale) or labels.get("vi") or item["code"])
    for code in scoring.points_by_level():
        found.setdefault(code, code)
    return list(found.items())


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",") if str(get_locale()) == "vi" else f"{value:g}"


@bp.route("/scoring", methods=["GET", "POST"])
def scoring_settings():
    levels = _levels()
    data = None
    if request.method == "GET":
        points = scoring.points_by_level()
        excellent, good, fair, average = scoring.points_thresholds()
        data = {
            "excellent": _number(excellent),
            "good": _number(good),
            "fair": _number(fair),
            "average": _number(average),
        }
        data |= {
            f"level_{code}": _number(points[code]) for code, _label in levels if code in points
        }
    form = scoring_form(levels, data)
    if form.validate_on_submit():
        points, thresholds = form.points(), form.thresholds()
        scoring.save(points, thresholds)
        audit("scoring.edit", points=points, thresholds=thresholds)
        db.session.commit()
        flash(_("Indicator-score settings saved. The next report uses them."), "success")
        return redirect(url_for("admin.scoring_settings"), 303)
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "admin/scoring.html",
            form=form,
            reset_form=ConfirmForm(),
            customised=scoring.stored(scoring.POINTS_THRESHOLDS) is not None,
        ),
        status,
    )


@bp.post("/scoring/reset")
def scoring_reset():
    require_confirm()
    scoring.reset()
    audit("scoring.reset")
    db.session.commit()
    flash(_("The installation's indicator-score settings apply again."), "success")
    return redirect(url_for("admin.scoring_settings"), 303)
