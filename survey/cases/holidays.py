"""Admins edit the public holidays of a year, which case due dates skip."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from survey.audit import audit
from survey.auth.decorators import admin_required
from survey.cases import bp, workdays
from survey.cases.forms import HolidayDeleteForm, HolidayForm, HolidayResetForm
from survey.cases.models import Holiday, HolidayYear
from survey.errors import abort_with
from survey.extensions import db
from survey.models import utcnow
from survey.periods import local_today
from survey.reporting import formatting


def _year(year: int) -> int:
    if not workdays.FIRST_YEAR <= year <= workdays.LAST_YEAR:
        abort_with(
            404,
            _(
                "Holidays can be set for the years %(first)d to %(last)d.",
                first=workdays.FIRST_YEAR,
                last=workdays.LAST_YEAR,
            ),
        )
    return year


def _render(year: int, status: int = 200, form: HolidayForm | None = None):
    return (
        render_template(
            "cases/holidays.html",
            year=year,
            days=workdays.holidays_of(year),
            edited=workdays.is_edited(year),
            form=form or HolidayForm(formdata=None),
            delete_form=HolidayDeleteForm(formdata=None),
            reset_form=HolidayResetForm(formdata=None),
            working_days=current_app.config["CASE_DUE_WORKING_DAYS"],
        ),
        status,
    )


@bp.route("/admin/holidays")
@admin_required
def holidays_now():
    return redirect(url_for("cases.holidays", year=local_today().year))


@bp.route("/admin/holidays/<int:year>")
@admin_required
def holidays(year: int):
    return _render(_year(year))


def _materialise(year: int) -> None:
    """Copy the year's defaults into rows the first time an admin edits that year."""
    if workdays.is_edited(year):
        return
    for day, name in workdays.default_holidays(year).items():
        db.session.add(Holiday(day=day, name=name[:120]))
    db.session.add(HolidayYear(year=year))
    db.session.flush()


def _check_in_year(form, year: int) -> bool:
    if form.day.data.year != year:
        form.day.errors.append(_("The date must lie in %(year)d.", year=year))
        return False
    return True


@bp.route("/admin/holidays/<int:year>/add", methods=["POST"])
@admin_required
def add_holiday(year: int):
    year = _year(year)
    form = HolidayForm()
    if not form.validate_on_submit() or not _check_in_year(form, year):
        return _render(year, 400, form)
    _materialise(year)
    existing = db.session.scalar(sa.select(Holiday).where(Holiday.day == form.day.data))
    if existing is None:
        db.session.add(Holiday(day=form.day.data, name=form.name.data))
    else:
        existing.name = form.name.data
    db.session.get(HolidayYear, year).edited_at = utcnow()
    audit("holiday.add", target=form.day.data.isoformat(), name=form.name.data)
    return _saved(year, _("%(day)s is a day off.", day=formatting.day(form.day.data)))


@bp.route("/admin/holidays/<int:year>/delete", methods=["POST"])
@admin_required
def delete_holiday(year: int):
    year = _year(year)
    form = HolidayDeleteForm()
    if not form.validate_on_submit() or not _check_in_year(form, year):
        abort_with(
            400, _("This day cannot be removed: the form is damaged. Please reload the page.")
        )
    _materialise(year)
    removed = db.session.execute(sa.delete(Holiday).where(Holiday.day == form.day.data)).rowcount
    if not removed:
        db.session.rollback()
        abort_with(404, _("This day is not a holiday (any more). Please reload the page."))
    audit("holiday.delete", target=form.day.data.isoformat())
    return _saved(year, _("%(day)s is a working day again.", day=formatting.day(form.day.data)))


@bp.route("/admin/holidays/<int:year>/reset", methods=["POST"])
@admin_required
def reset_holidays(year: int):
    year = _year(year)
    if not HolidayResetForm().validate_on_submit():
        abort_with(400, _("The form has expired. Please try again."))
    db.session.execute(
        sa.delete(Holiday).where(Holiday.day.between(date(year, 1, 1), date(year, 12, 31)))
    )
    db.session.execute(sa.delete(HolidayYear).where(HolidayYear.year == year))
    audit("holiday.reset", target=str(year))
    return _saved(year, _("The holidays of %(year)d are back to the defaults.", year=year))


def _saved(year: int, message: str):
    """Commit a change of `year`'s days off, drop the cached working days, and go back."""
    db.session.commit()
    workdays.forget(year)
    flash(message, "success")
    return redirect(url_for("cases.holidays", year=year), code=303)
