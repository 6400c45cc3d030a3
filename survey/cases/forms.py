"""Forms of the cases pages: the list's filters, assign, reply, close, and the holidays."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from survey.cases.models import REPLY_MAX, CaseStatus
from survey.cases.service import HTML_TAG
from survey.fields import SelectField, choices

NOTE_MAX = 500
HOLIDAY_NAME_MAX = 120


def _strip(value):
    return value.strip() if isinstance(value, str) else value


STATUS_LABELS = {
    CaseStatus.NEW.value: _l("New"),
    CaseStatus.ASSIGNED.value: _l("Assigned"),
    CaseStatus.ANSWERED.value: _l("Answered"),
    CaseStatus.CLOSED.value: _l("Case closed"),
}
# The list's status filter: "open" (new or assigned) is what needs doing, and the default.
STATUS_FILTERS = {
    "open": _l("To answer (new or assigned)"),
    **STATUS_LABELS,
    "all": _l("All"),
}
ASSIGNEE_FILTERS = {
    "": _l("Anyone"),
    "me": _l("Assigned to me"),
    "none": _l("Not assigned"),
}


class CaseFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    status = SelectField(_l("Status"), validators=[Optional()])
    agency = SelectField(_l("Agency"), validators=[Optional()])
    assignee = SelectField(_l("Assignee"), validators=[Optional()])
    overdue = BooleanField(_l("Overdue only"))
    opened_from = DateField(
        _l("Opened from"),
        validators=[Optional()],
        render_kw={"min": "2000-01-01", "max": "2100-12-31"},
    )
    opened_to = DateField(
        _l("Opened until"),
        validators=[Optional()],
        render_kw={"min": "2000-01-01", "max": "2100-12-31"},
    )

    def __init__(self, agencies: list[tuple[str, str]], **kwargs):
        super().__init__(**kwargs)
        self.status.choices = choices(STATUS_FILTERS.items())
        self.agency.choices = choices([("", _l("All my agencies")), *agencies])
        self.assignee.choices = choices(ASSIGNEE_FILTERS.items())

    def validate_opened_to(self, field):
        if field.data and self.opened_from.data and field.data < self.opened_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))


class AssignForm(FlaskForm):
    assignee = SelectField(
        _l("Assign to"),
        validators=[InputRequired(message=_l("Please choose who will answer."))],
    )


def plain_text(form, field):
    if field.data and HTML_TAG.search(field.data):
        raise ValidationError(
            _l(
                "A reply is plain text: please remove the HTML tags (text between < and >). "
                "Line breaks are kept as written."
            )
        )


class ReplyForm(FlaskForm):
    reply = TextAreaField(
        _l("Reply to the citizen"),
        validators=[
            DataRequired(message=_l("Please write the reply.")),
            Length(
                max=REPLY_MAX,
                message=_l("Please keep the reply under %(max)d characters.", max=REPLY_MAX),
            ),
            plain_text,
        ],
        filters=[_strip],
        description=_l(
            "Plain text. Write to the citizen as “Ông/Bà”; do not include anyone's name, "
            "phone number or ID number."
        ),
        render_kw={"rows": 8, "maxlength": REPLY_MAX},
    )
    publish = BooleanField(
        _l("Publish: show this reply on the citizen's case page"),
        description=_l("Until it is published, only staff can read the reply."),
    )


class CloseForm(FlaskForm):
    note = StringField(
        _l("Note (why the case is closed)"),
        validators=[
            Optional(),
            Length(
                max=NOTE_MAX,
                message=_l("Please keep the note under %(max)d characters.", max=NOTE_MAX),
            ),
        ],
        filters=[_strip],
        description=_l("Kept in the case's history; the citizen does not see it."),
    )


class ReopenForm(FlaskForm):
    pass


class HolidayForm(FlaskForm):
    day = DateField(
        _l("Date"), validators=[InputRequired(message=_l("Please give the date of the day off."))]
    )
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Please name the holiday.")),
            Length(
                max=HOLIDAY_NAME_MAX,
                message=_l("Please keep the name under %(max)d characters.", max=HOLIDAY_NAME_MAX),
            ),
        ],
        filters=[_strip],
    )


class HolidayDeleteForm(FlaskForm):
    day = DateField(validators=[InputRequired()])


class HolidayResetForm(FlaskForm):
    pass
