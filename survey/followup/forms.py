"""The form that draws a follow-up sample on the web, beside `flask followup draw`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from survey.fields import SelectField
from survey.followup.service import MAX_SIZE


class _WholeNumber(IntegerField):
    """An integer whose parse error is translated (WTForms ships no Vietnamese)."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a whole number.")) from None


class DrawForm(FlaskForm):
    period = StringField(
        _l("Period"),
        description=_l("e.g. 2026-Q3, 2026-07, 2026-H2, 2026"),
        validators=[InputRequired(message=_l("Enter the period."))],
    )
    size = _WholeNumber(
        _l("Number of dossiers to draw"),
        validators=[
            InputRequired(message=_l("Enter the number of dossiers to draw.")),
            NumberRange(
                min=1,
                max=MAX_SIZE,
                message=_l("The sample size must be between 1 and %(n)d.", n=MAX_SIZE),
            ),
        ],
    )
    agency = SelectField(_l("Agency"), validators=[Optional()])
    seed = _WholeNumber(
        _l("Seed (optional)"),
        description=_l("Give the seed of an earlier draw to draw the same sample again."),
        validators=[Optional(), NumberRange(min=0, max=2**63 - 1)],
    )
