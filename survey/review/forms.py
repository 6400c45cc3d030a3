"""Decision forms for flagged responses."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from survey.fields import ChoiceRadioField, choices

REASON_MAX = 200
MAX_PICKED = 200


def decision_choices():
    return choices(
        [
            ("valid", _l("Valid: count it in the rate")),
            ("excluded", _l("Excluded: leave it out of the rate")),
        ]
    )


class DecisionForm(FlaskForm):
    decision = ChoiceRadioField(
        _l("Decision"),
        validators=[InputRequired(message=_l("Please choose valid or excluded."))],
    )
    reason = StringField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Please give a reason.")),
            Length(
                max=REASON_MAX,
                message=_l("Please keep the reason under %(max)d characters.", max=REASON_MAX),
            ),
        ],
        description=_l("Kept with the response and in the audit log, with your name."),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = decision_choices()


class PickedField(Field):
    """The response ids ticked in the queue (checkboxes named `ids`)."""

    def process_formdata(self, valuelist):
        self.data = valuelist

    def pre_validate(self, form):
        values = self.data or []
        if not values:
            raise ValidationError(_l("Please tick at least one response."))
        if len(values) > MAX_PICKED:
            raise ValidationError(
                _l("Please decide on at most %(max)d responses at once.", max=MAX_PICKED)
            )
        try:
            self.data = sorted({uuid.UUID(value) for value in values})
        except ValueError:
            raise ValidationError(_l("The form is damaged. Please reload the page.")) from None


class BulkDecisionForm(DecisionForm):
    ids = PickedField()
