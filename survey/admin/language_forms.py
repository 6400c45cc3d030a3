"""The administrators' forms for languages and their packs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from survey.admin.forms import SpreadsheetForm
from survey.fields import SelectField, choices
from survey.languages.strings import MAX_TEXT


class LanguageForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(message=_l("Please enter a code.")),
            Regexp(
                r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$",
                message=_l(
                    "A code is 2 or 3 lowercase letters (ISO 639), optionally with a suffix: tay, nun, hmn, dao, km, hmn-x."
                ),
            ),
        ],
        description=_l("The ISO 639 code, e.g. tay (Tày), nun (Nùng), hmn (H'Mông), dao, km."),
    )
    name = StringField(
        _l("Name in the language itself"),
        validators=[InputRequired(message=_l("Please enter the name.")), Length(max=80)],
        description=_l("Shown on the language button, e.g. “Tày”, “Hmoob”."),
    )
    name_vi = StringField(
        _l("Name in Vietnamese"),
        validators=[InputRequired(message=_l("Please enter the name.")), Length(max=80)],
        description=_l("Shown to staff and in reports, e.g. “Tiếng Tày”."),
    )
    direction = SelectField(
        _l("Writing direction"),
        choices=choices([("ltr", _l("Left to right")), ("rtl", _l("Right to left"))]),
        default="ltr",
    )


class PackImportForm(SpreadsheetForm):
    """A language pack's texts, filled in from the exported file."""


def pack_form(keys: list[str], texts: dict[str, str]) -> FlaskForm:
    """One text field per key (named t0, t1, ... in `keys` order), filled with `texts`."""
    attrs = {
        f"t{index}": TextAreaField(
            key,
            validators=[
                Optional(),
                Length(
                    max=MAX_TEXT,
                    message=_l("Please keep this text under %(max)d characters.", max=MAX_TEXT),
                ),
            ],
        )
        for index, key in enumerate(keys)
    }
    form_class = type("PackForm", (FlaskForm,), attrs)
    data = {f"t{index}": texts.get(key, "") for index, key in enumerate(keys)}
    return form_class(data=data)  # a POST's own values take precedence over `data`
