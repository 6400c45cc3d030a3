"""Decision forms for flagged responses."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from survey.fields import ChoiceRadioField, SelectField, choices

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


class QueueFilterForm(FlaskForm):
    """The queue's filters, sent with GET so that a filtered queue has a URL."""

    class Meta:
        csrf = False

    desk = SelectField(_l("Desk"), validators=[Optional()])
    reason = SelectField(_l("Why it was flagged"), validators=[Optional()])
    agency = HiddenField()
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])

    def __init__(self, desks: list[tuple[str, str]], reasons: list[tuple[str, str]], **kwargs):
        super().__init__(**kwargs)
        self.desk.choices = choices([("", _l("All desks")), *desks])
        self.reason.choices = choices([("", _l("All reasons")), *reasons])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date must not be before the start date."))
