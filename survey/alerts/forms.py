"""Forms of the alerts pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, StringField, SubmitField
from wtforms.validators import Length, Optional, ValidationError

from survey.alerts.models import AlertKind
from survey.fields import SelectField, choices

NOTE_MAX = 500
MAX_PICKED = 200

STATE_FILTERS = {
    "open": _l("Open (new or seen)"),
    "new": _l("New"),
    "seen": _l("Seen"),
    "resolved": _l("Resolved"),
    "all": _l("All"),
}
KIND_LABELS = {
    AlertKind.DROP.value: _l("Dissatisfaction rising"),
    AlertKind.BELOW.value: _l("Below the target"),
    AlertKind.OVERDUE.value: _l("Case overdue"),
}


class AlertFilterForm(FlaskForm):
    class Meta:
        csrf = False

    state = SelectField(_l("State"), validators=[Optional()])
    kind = SelectField(_l("Kind of alert"), validators=[Optional()])

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state.choices = choices(STATE_FILTERS.items())
        self.kind.choices = choices([("", _l("All kinds")), *KIND_LABELS.items()])


class PickedAlerts(Field):
    """The alert ids ticked on the page (checkboxes named `ids`)."""

    def process_formdata(self, valuelist):
        self.data = valuelist

    def pre_validate(self, form):
        values = self.data or []
        if not values:
            raise ValidationError(_l("Please tick at least one alert."))
        if len(values) > MAX_PICKED:
            raise ValidationError(_l("Please pick at most %(max)d alerts at once.", max=MAX_PICKED))
        if not all(value.isdigit() and len(value) < 12 for value in values):
            raise ValidationError(_l("The form is damaged. Please reload the page."))
        self.data = sorted({int(value) for value in values})


class AlertActionForm(FlaskForm):
    ids = PickedAlerts()
    note = StringField(
        _l("Note (when resolving)"),
        validators=[
            Optional(),
            Length(
                max=NOTE_MAX,
                message=_l("Please keep the note under %(max)d characters.", max=NOTE_MAX),
            ),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        description=_l("What was done, kept with the alert."),
    )
    seen = SubmitField(_l("Mark as seen"))
    resolve = SubmitField(_l("Resolve"))

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if not (self.seen.data or self.resolve.data):
            self.form_errors.append(_l("Please choose what to do with the ticked alerts."))
            return False
        return True


class SubscriptionForm(FlaskForm):
    email_me = BooleanField(_l("E-mail me new alerts of my agencies and a weekly summary"))


class RetryForm(FlaskForm):
    pass
