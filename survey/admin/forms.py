"""Forms of the administration. Choices that come from the database are set by the views."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    PasswordField,
    StringField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from survey.fields import SelectField, SelectMultipleField, choices
from survey.models import Level, Role
from survey.reporting.labels import KIND_LABELS  # the same words in the reports and here

TOO_LONG = _l("At most %(max)d characters.")
CODE_PATTERN = r"^[A-Za-z0-9_.\-]+$"
CODE_MESSAGE = _l("Use only letters without diacritics, digits, dots, dashes and underscores.")
ITEM_CODE_PATTERN = r"^[a-z0-9_]+$"
ITEM_CODE_MESSAGE = _l("Use only lower-case letters without diacritics, digits and underscores.")

LEVEL_LABELS = {
    Level.PROVINCE: _l("Province"),
    Level.DEPARTMENT: _l("Department, board or sector"),
    Level.DISTRICT: _l("District (before July 2025)"),
    Level.COMMUNE: _l("Commune or ward"),
    Level.SERVICE_UNIT: _l("Public service unit"),
}
ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.ANALYST: _l("Analyst"),
    Role.LEADER: _l("Leader"),
}
SCOPE_LABELS = {
    "responses:write": _l("Submit responses"),
    "tickets:write": _l("Issue survey tickets for dossiers"),
    "reports:read": _l("Read results"),
    "directory:read": _l("Read the agencies and desks"),
}


def enum_choices(labels: dict) -> list:
    return choices((member.value, label) for member, label in labels.items())


class LocalDateField(DateField):
    """A date field whose parse error is translated (WTForms has no Vietnamese catalogue)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date as YYYY-MM-DD.")) from None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def code_field(description) -> StringField:
    """The code of an agency or a desk: required, short, letters, digits and dashes."""
    return StringField(
        _l("Code"),
        validators=[
            InputRequired(message=_l("Please enter a code.")),
            Length(max=40, message=TOO_LONG),
            Regexp(CODE_PATTERN, message=CODE_MESSAGE),
        ],
        description=description,
    )


def name_field() -> StringField:
    return StringField(
        _l("Name"),
        validators=[
            InputRequired(message=_l("Please enter a name.")),
            Length(max=200, message=TOO_LONG),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class AgencyForm(FlaskForm):
    code = code_field(_l("Short and unique, e.g. XAB. Used in imports, exports and the CLI."))
    name = name_field()
    name_en = StringField(
        _l("Name in English (optional)"), validators=[Optional(), Length(max=200, message=TOO_LONG)]
    )
    parent = SelectField(_l("Parent agency"), choices=[])
    level = SelectField(_l("Level"), choices=enum_choices(LEVEL_LABELS))
    kind = SelectField(_l("Kind"), choices=enum_choices(KIND_LABELS))
    questionnaire = SelectField(
        _l("Questionnaire"),
        choices=[],
        description=_l("Empty: the parent agency's questionnaire, else the default one."),
    )


class DeskForm(FlaskForm):
    code = code_field(_l("Unique; paper-form imports name desks by this code."))
    name = name_field()
    agency = SelectField(_l("Agency"), choices=[])
    questionnaire = SelectField(
        _l("Questionnaire"),
        choices=[],
        description=_l("Empty: the agency's questionnaire."),
    )
    languages = MultiCheckboxField(
        _l("Other languages its citizen page offers (besides Vietnamese and English)"),
        choices=[],
        validators=[Optional()],
    )


class MergeForm(FlaskForm):
    sources = MultiCheckboxField(
        _l("Agencies to merge"),
        choices=[],
        validators=[InputRequired(message=_l("Choose at least one agency to merge."))],
    )
    target = SelectField(_l("Merge into"), choices=[])
    merged_on = LocalDateField(
        _l("Date of the merger"),
        validators=[InputRequired(message=_l("Please enter a date."))],
        description=_l(
            "The day the merger took effect, e.g. 2025-07-01. For a merger done before hailong, "
            "enter its date: reports of periods before it show the old agencies, and the new "
            "agency's combined history starts from their responses."
        ),
    )
    confirm = BooleanField(
        _l("I understand: the desks move to the new agency and the old agencies are deactivated."),
        validators=[InputRequired(message=_l("Please confirm the merger."))],
    )


class PosterForm(Form):
    """Query-string form (GET): no CSRF, it changes nothing."""

    size = SelectField(
        _l("Paper size"), choices=choices([("A4", "A4"), ("A5", "A5")]), default="A4"
    )
    subtree = BooleanField(_l("Include the sub-agencies' desks"))


class TargetForm(FlaskForm):
    rate = StringField(
        _l("Target rate (%)"),
        validators=[InputRequired(message=_l("Please enter the target as a percentage."))],
        description=_l("For example 90 or 82,5."),
        render_kw={"inputmode": "decimal"},
    )
    valid_from = LocalDateField(
        _l("Valid from"), validators=[InputRequired(message=_l("Please enter a date."))]
    )
    valid_to = LocalDateField(_l("Valid to (empty: open-ended)"), validators=[Optional()])
    scope = SelectField(
        _l("Applies to"),
        choices=choices(
            [
                ("all", _l("All agencies")),
                ("kind", _l("All agencies of one kind")),
                ("agency", _l("One agency and its sub-agencies")),
            ]
        ),
    )
    kind = SelectField(_l("Kind"), choices=[*choices([("", "—")]), *enum_choices(KIND_LABELS)])
    agency = SelectField(_l("Agency"), choices=[])
    note = StringField(
        _l("Note (the plan or decision it comes from)"),
        validators=[Length(max=200, message=TOO_LONG)],
    )

    def validate_rate(self, field):
        value = parse_percent(field.data)
        if value is None or not Decimal("1") <= value <= Decimal("99.9"):
            raise ValidationError(_l("Enter a percentage between 1 and 99.9."))

    def validate_valid_to(self, field):
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_kind(self, field):
        if self.scope.data == "kind" and not field.data:
            raise ValidationError(_l("Choose the kind this target applies to."))

    def validate_agency(self, field):
        if self.scope.data == "agency" and not field.data:
            raise ValidationError(_l("Choose the agency this target applies to."))


class TargetLookupForm(Form):
    day = LocalDateField(_l("On the date"), validators=[Optional()])


class UserForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[
            InputRequired(message=_l("Please enter an email address.")),
            Length(max=254, message=TOO_LONG),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("This is not an email address.")),
        ],
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120, message=TOO_LONG)])
    role = SelectField(_l("Role"), choices=enum_choices(ROLE_LABELS))
    agency = SelectField(
        _l("Agency scope"),
        choices=[],
        description=_l(
            "The user sees, and an administrator manages, only this agency and its "
            "sub-agencies. Empty: everything (a global administrator)."
        ),
    )

    def validate_agency(self, field):
        if self.role.data == Role.LEADER.value and not field.data:
            raise ValidationError(_l("A leader leads an agency: choose it."))


class NewUserForm(UserForm):
    password = PasswordField(
        _l("Initial password (optional)"),
        validators=[
            Optional(),
            Length(min=10, max=200, message=_l("Use at least 10 characters.")),
        ],
        description=_l("Empty: a random password is generated and shown once."),
        render_kw={"autocomplete": "new-password"},
    )


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            InputRequired(message=_l("Please enter a name.")),
            Length(max=120, message=TOO_LONG),
        ],
        description=_l("Who uses it, e.g. the provincial iGate."),
    )
    scopes = MultiCheckboxField(
        _l("Permissions"),
        choices=[],
        validators=[InputRequired(message=_l("Choose at least one permission."))],
    )
    agency = SelectField(
        _l("Agency scope"),
        choices=[],
        description=_l("The key can act only on this agency and its sub-agencies. Empty: all."),
    )


class SpreadsheetForm(FlaskForm):
    """One CSV or XLSX file to upload."""

    file = FileField(
        _l("File (CSV or Excel .xlsx)"),
        validators=[
            FileRequired(message=_l("Please choose a file.")),
            FileAllowed(
                ["csv", "xlsx", "txt"], message=_l("Upload a CSV (.csv) or Excel (.xlsx) file.")
            ),
        ],
    )


class ImportForm(SpreadsheetForm):
    """A file to import, or only to check."""

    dry_run = BooleanField(_l("Only check the file; import nothing"))


def parse_id(value: str | None) -> int | None:
    """A select's value as an id; '' means none. Values come from our own choices."""
    return int(value) if value and re.fullmatch(r"\d{1,12}", value) else None


def parse_percent(text: str | None) -> Decimal | None:
    """'82,5', '82.5' or '82,5 %' as Decimal('82.5'); None when it is not a number."""
    cleaned = (text or "").strip().rstrip("%").strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def parse_points(text: str | None) -> float | None:
    """'1', '1,5' or '1.5' as a float; None when it is not a number with at most 2 decimals."""
    cleaned = (text or "").strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", cleaned):
        return None
    return float(cleaned)
