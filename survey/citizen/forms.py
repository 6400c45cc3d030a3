"""The citizen survey form, built for the questionnaire version the desk uses."""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from survey import cache
from survey.errors import csrf_expired
from survey.fields import (
    COMMENT_MAX_LENGTH,
    DOSSIER_CODE,
    DOSSIER_CODE_MAX,
    DOSSIER_CODE_MESSAGE,
    ChoiceRadioField,
    choices,
)
from survey.languages.packs import Wording
from survey.models import Questionnaire

DOSSIER_MAX = DOSSIER_CODE_MAX


def _uuid(form, field):
    try:
        uuid.UUID(field.data or "")
    except ValueError:
        raise ValidationError(_l("The form is damaged. Please reload the page.")) from None


class SurveyForm(FlaskForm):
    response_id = HiddenField(validators=[InputRequired(), _uuid])
    rating = ChoiceRadioField(
        _l("How satisfied are you with the service today?"),
        validators=[InputRequired(message=_l("Please choose how satisfied you are."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[
            Optional(),
            Length(
                max=COMMENT_MAX_LENGTH,
                message=_l(
                    "Please keep your comment under %(max)d characters.", max=COMMENT_MAX_LENGTH
                ),
            ),
        ],
        description=_l("Please do not write your name, phone number or ID number."),
    )
    dossier_code = StringField(
        _l("Dossier code (optional)"),
        validators=[
            Optional(),
            Length(
                max=DOSSIER_MAX,
                message=_l("A dossier code has at most %(max)d characters.", max=DOSSIER_MAX),
            ),
            Regexp(DOSSIER_CODE, message=DOSSIER_CODE_MESSAGE),
        ],
        description=_l("Printed on your receipt; it helps the agency follow up."),
    )

    criterion_fields: list[str] = []

    def criteria_answers(self) -> dict[str, str]:
        return {
            name.removeprefix("c_"): self[name].data
            for name in self.criterion_fields
            if self[name].data
        }


def survey_form(
    questionnaire: Questionnaire,
    locale: str,
    with_dossier: bool = True,
    wording: Wording | None = None,
    **kwargs,
) -> SurveyForm:
    """A SurveyForm subclass with one optional radio group per criterion of `questionnaire`.

    A ticket already names its dossier: `with_dossier=False` drops the dossier code field.
    `wording` is an admin-added language's pack (survey/languages), for labels and messages.
    """
    wording = wording or Wording(questionnaire, locale)
    if wording.language is None:  # a compiled locale: the class is built once per process
        form_class, level_choices = cache.form_class(
            (questionnaire.id, locale, with_dossier),
            lambda: _form_class(questionnaire, wording, with_dossier),
        )
    else:  # an admin-added language's pack can change at any time: built for each request
        form_class, level_choices = _form_class(questionnaire, wording, with_dossier)
    form = form_class(**kwargs)
    form.rating.choices = level_choices
    if wording.language is not None:
        form.rating.label.text = wording.ui("question")
        form.rating.validators = [InputRequired(message=wording.ui("choose"))]
        form.comment.label.text = wording.ui("comment")
        form.comment.description = wording.ui("comment_hint")
        if with_dossier:
            form.dossier_code.label.text = wording.ui("dossier")
            form.dossier_code.description = wording.ui("dossier_hint")
    return form


def _form_class(questionnaire: Questionnaire, wording: Wording, with_dossier: bool):
    """The form class and the level choices (survey/cache.py caches them for each
    questionnaire version, compiled locale and variant)."""
    level_choices = choices(
        (lvl["code"], wording.label("level", lvl)) for lvl in questionnaire.levels
    )
    attrs: dict = {}
    names = []
    for criterion in questionnaire.criteria:
        name = f"c_{criterion['code']}"
        names.append(name)
        attrs[name] = ChoiceRadioField(
            wording.label("criterion", criterion), choices=level_choices, validators=[Optional()]
        )
    attrs["criterion_fields"] = names
    if not with_dossier:
        attrs["dossier_code"] = None
    return type("QuestionnaireSurveyForm", (SurveyForm,), attrs), level_choices


def refused_notice(form, wording: Wording | None = None) -> str:
    """Why a sent survey form is shown again: the session expired (the CSRF error handler
    re-runs the view, see `survey.errors.rerender_on_csrf_failure`), or answers to check."""
    if csrf_expired():
        if not form.response_id.data:
            form.response_id.data = str(uuid.uuid4())
        return _(
            "Your session expired before the answer was sent. Nothing was saved: please press Send again."
        )
    return wording.ui("check") if wording else _("Please check the highlighted answers.")
