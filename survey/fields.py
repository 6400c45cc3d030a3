"""Form fields shared by several blueprints."""

from __future__ import annotations

import re

import wtforms
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice
from wtforms.validators import ValidationError

# A dossier code (mã hồ sơ): one rule for every channel that takes one (the citizen form, the
# responses and tickets APIs, the dossier import). `\Z`, not `$`, which would let a final
# newline through.
DOSSIER_CODE_MAX = 64
DOSSIER_CODE = re.compile(rf"^[\w./-]{{1,{DOSSIER_CODE_MAX}}}\Z")
DOSSIER_CODE_MESSAGE = _l("A dossier code contains only letters, digits, dots, dashes and slashes.")
# The same rule in the OpenAPI document (its `$` is the end of the text, as `\Z` is here).
DOSSIER_CODE_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": DOSSIER_CODE_MAX,
    "pattern": r"^[\w./-]+$",
    "example": "000.00.24.H12-261120-0001",
    "description": "The dossier code (mã hồ sơ) printed on the receipt: letters, digits, "
    "dots, dashes and slashes.",
}

# A comment, on every channel; the database checks it too (response.comment).
COMMENT_MAX_LENGTH = 1000

NOT_A_CHOICE = _l("This choice does not exist. Please choose one of the options shown.")


class ChoiceRadioField(RadioField):
    """A radio group where "nothing chosen" is left to the validators (Optional/InputRequired)
    and a value outside the choices gets a message a citizen understands."""

    def pre_validate(self, form):
        if self.data in (None, ""):
            return
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(NOT_A_CHOICE)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = valuelist[0]


class _OwnChoiceMessage:
    """A value outside the choices (a tampered request) gets our translated message instead
    of WTForms' own, which has no Vietnamese catalogue."""

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(NOT_A_CHOICE) from None


class SelectField(_OwnChoiceMessage, wtforms.SelectField):
    pass


class SelectMultipleField(_OwnChoiceMessage, wtforms.SelectMultipleField):
    pass


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]
