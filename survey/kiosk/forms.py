"""Forms: enrolling a tablet, and the administrators' kiosk forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TimeInput

from survey.fields import NOT_A_CHOICE
from survey.kiosk_settings import (
    CLOCK,
    COOLDOWN_RANGE,
    IDLE_RANGE,
    MAX_CRITERIA,
    MAX_LANGUAGES,
    WEEKDAYS,
    KioskSettings,
    minutes,
)

NAME_MAX = 120


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Enrolment code"),
        validators=[
            InputRequired(message=_l("Please enter the enrolment code.")),
            Length(max=40, message=_l("An enrolment code has 16 letters and digits.")),
        ],
        description=_l(
            "16 letters and digits, as shown to the administrator, e.g. ABCD-EFGH-JKMN-PQRS."
        ),
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class _ChoiceMixin:
    def pre_validate(self, form):
        allowed = {choice.value for choice in self.choices}
        values = self.data if isinstance(self.data, list) else [self.data]
        if any(value not in allowed for value in values if value not in (None, "")):
            raise ValidationError(NOT_A_CHOICE)


class ChoiceSelectField(_ChoiceMixin, SelectField):
    pass


class CheckboxesField(_ChoiceMixin, SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WholeNumberField(IntegerField):
    """An integer field whose parse error is translated (WTForms ships no Vietnamese)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("Please enter a whole number of seconds.")) from None


class ClockField(StringField):
    """A time of day as HH:MM (a browser's time picker may add :SS, which is dropped)."""

    widget = TimeInput()

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data and len(self.data) == 8 and self.data[5] == ":":
            self.data = self.data[:5]

    def pre_validate(self, form):
        if self.data and not CLOCK.match(self.data):
            raise ValidationError(_l("Please enter a time such as 07:30."))


def _seconds(label, bounds, description):
    low, high = bounds
    return WholeNumberField(
        label,
        validators=[
            InputRequired(message=_l("Please enter a number of seconds.")),
            NumberRange(
                min=low,
                max=high,
                message=_l("Please enter between %(min)d and %(max)d seconds.", min=low, max=high),
            ),
        ],
        description=description,
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
    )


class DayForm(Form):
    """One weekday's opening hours. Closing at 23:59 means open until midnight."""

    open = BooleanField(_l("Open"))
    opens = ClockField(_l("Opens"))
    closes = ClockField(_l("Closes"))

    def validate_closes(self, field):
        if not self.open.data:
            return
        if not self.opens.data or not field.data:
            raise ValidationError(_l("Please give both the opening and the closing time."))
        if CLOCK.match(self.opens.data) and minutes(self.opens.data) >= minutes(field.data):
            raise ValidationError(_l("The closing time must be after the opening time."))


class NewKioskForm(FlaskForm):
    desk = ChoiceSelectField(
        _l("Desk"), validators=[InputRequired(message=_l("Please choose a desk."))]
    )
    name = StringField(
        _l("Name of the tablet"),
        validators=[
            InputRequired(message=_l("Please give the tablet a name.")),
            Length(
                max=NAME_MAX, message=_l("Please use at most %(max)d characters.", max=NAME_MAX)
            ),
        ],
        description=_l("So that staff can tell the tablets apart, e.g. “Tablet by the entrance”."),
    )


class SettingsForm(FlaskForm):
    name = NewKioskForm.name
    cooldown_seconds = _seconds(
        _l("Lock after a rating (seconds)"),
        COOLDOWN_RANGE,
        _l("The thank-you screen stays this long, so one person's repeated taps count once."),
    )
    idle_seconds = _seconds(
        _l("Drop unfinished answers after (seconds)"),
        IDLE_RANGE,
        _l("If nobody touches the screen for this long, it goes back to the start."),
    )
    criteria = CheckboxesField(
        _l("Criteria to ask after the overall rating (at most 2, optional)"),
        validators=[Optional()],
    )

    languages = CheckboxesField(
        _l("Language buttons besides Vietnamese (at most 3)"),
        validators=[Optional()],
        description=_l(
            "An added language shows once it is translated for the questionnaire version of the desk."
        ),
    )
    faces_only = BooleanField(
        _l("Faces only: no text, for citizens who cannot read"),
        description=_l(
            "The kiosk asks with large drawn faces and the spoken prompt, and skips the criteria."
        ),
    )

    speak_on_approach = BooleanField(
        _l("Read the question out when someone approaches"),
        description=_l(
            "The kiosk waits on a screen that asks for a touch; the touch starts the spoken prompt in the kiosk's language (upload the recordings under Languages). Without this, citizens play it with the speaker button."
        ),
    )

    def validate_criteria(self, field):
        if len(field.data or []) > MAX_CRITERIA:
            raise ValidationError(_l("Please choose at most %(max)d criteria.", max=MAX_CRITERIA))

    def validate_languages(self, field):
        if len(field.data or []) > MAX_LANGUAGES:
            raise ValidationError(_l("Please choose at most %(max)d languages.", max=MAX_LANGUAGES))

    @staticmethod
    def initial(name: str, settings: KioskSettings) -> dict:
        return {
            "name": name,
            "cooldown_seconds": settings.cooldown_seconds,
            "idle_seconds": settings.idle_seconds,
            **{
                day: {
                    "open": bool(span),
                    "opens": span[0] if span else "",
                    "closes": span[1] if span else "",
                }
                for day, span in ((day, settings.hours.get(day)) for day in WEEKDAYS)
            },
            "criteria": list(settings.criteria),
            "languages": list(settings.languages),
            "faces_only": settings.faces_only,
            "speak_on_approach": settings.speak_on_approach,
        }

    def days(self) -> list[FormField]:
        """The seven weekday subforms, Monday first."""
        return [self[day] for day in WEEKDAYS]

    def settings(self) -> KioskSettings:
        hours = {}
        for day in self.days():
            hours[day.short_name] = (day.opens.data, day.closes.data) if day.open.data else None
        return KioskSettings(
            cooldown_seconds=self.cooldown_seconds.data,
            idle_seconds=self.idle_seconds.data,
            hours=hours,
            criteria=tuple(self.criteria.data or ()),
            languages=tuple(self.languages.data or ()),
            faces_only=bool(self.faces_only.data),
            speak_on_approach=bool(self.speak_on_approach.data),
        )


# One subform per weekday, named mon..sun (fields mon-open, mon-opens, mon-closes).
for _day in WEEKDAYS:
    setattr(SettingsForm, _day, FormField(DayForm))
