"""Spoken prompts: an administrator uploads, per language and questionnaire version, a
recording of the question, each level, each criterion and the thank-you (survey/languages).

Every file of a submission is checked (audio.check_audio) before any is kept: one bad file and
nothing is stored, with the reason next to that file.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge

from survey.admin import bp
from survey.admin.common import get_or_404, questionnaire_title
from survey.audit import audit
from survey.errors import abort_with, error_page
from survey.extensions import db
from survey.languages.audio import MAX_BYTES, MAX_SECONDS, AudioProblem, check_audio
from survey.languages.packs import language_by_code, wording
from survey.languages.prompts import prompt_keys, prompt_url, prompts_for, store
from survey.models import Questionnaire

PAGE = "admin.prompts"


class DeletePromptForm(FlaskForm):
    """The CSRF token of a delete button."""


def _prompt_form(keys: list[str], labels: dict[str, str]) -> FlaskForm:
    """One optional file field per key (f0, f1, ... in `keys` order), labelled with its text."""
    attrs = {f"f{index}": FileField(labels[key]) for index, key in enumerate(keys)}
    return type("PromptForm", (FlaskForm,), attrs)()


def _language(code: str):
    """(code, name shown to staff, Language or None); 404 for an unknown code."""
    if code == "vi":
        return code, _("Vietnamese"), None
    if code == "en":
        return code, _("English"), None
    language = language_by_code(code)
    if language is None:
        abort_with(404, _("This language does not exist."))
    return code, language.name_vi, language


def _labels(questionnaire: Questionnaire, code: str, language) -> dict[str, str]:
    """What each key says in the language being recorded: what the speaker reads out."""
    with force_locale("vi" if language else code):
        w = wording(questionnaire, "vi" if language else code, language)
        texts = {"question": w.ui("question")}
        texts.update(
            {f"level.{lvl['code']}": w.label("level", lvl) for lvl in questionnaire.levels}
        )
        texts.update(
            {f"criterion.{c['code']}": w.label("criterion", c) for c in questionnaire.criteria}
        )
        texts["thanks"] = w.ui("thanks")
    return texts


@bp.route(
    "/languages/<code>/questionnaires/<int:questionnaire_id>/prompts", methods=["GET", "POST"]
)
def prompts(code: str, questionnaire_id: int):
    code, name, language = _language(code)
    questionnaire = get_or_404(Questionnaire, questionnaire_id)
    keys = prompt_keys(questionnaire)
    labels = _labels(questionnaire, code, language)
    form = _prompt_form(keys, labels)
    notice = None
    if form.validate_on_submit():
        uploads = {key: form[f"f{i}"].data for i, key in enumerate(keys) if form[f"f{i}"].data}
        checked = {}
        for index, key in enumerate(keys):
            if key not in uploads:
                continue
            data = uploads[key].read()  # at most MAX_CONTENT_LENGTH: larger is a 413
            try:
                checked[key] = (data, check_audio(data))
            except AudioProblem as problem:
                form[f"f{index}"].errors = [str(problem)]
        if not uploads:
            notice = _("Please choose at least one recording to upload.")
        elif len(checked) < len(uploads):
            notice = _("Nothing was stored: please check the highlighted recordings.")
        else:
            for key, (data, info) in checked.items():
                store(code, questionnaire, key, data, info)
            audit(
                "language.prompts",
                target=f"{code} {questionnaire.key} v{questionnaire.version}",
                keys=",".join(checked),
            )
            db.session.commit()
            flash(_("%(count)d recordings stored.", count=len(checked)), "success")
            return redirect(request.path, 303)
    elif request.method == "POST":
        notice = _("The form has expired. Please reload the page and try again.")
    status = 400 if request.method == "POST" else 200
    return _page(code, name, questionnaire, form, labels, notice), status


def _page(code, name, questionnaire, form, labels, notice):
    keys = prompt_keys(questionnaire)
    stored = prompts_for(code, questionnaire)
    return render_template(
        "admin/prompts.html",
        code=code,
        name=name,
        q=questionnaire,
        title=questionnaire_title,
        form=form,
        rows=[(f"f{i}", key) for i, key in enumerate(keys)],
        labels=labels,
        stored=stored,
        url=prompt_url,
        notice=notice,
        delete_form=DeletePromptForm(),
        max_kb=MAX_BYTES // 1024,
        max_seconds=int(MAX_SECONDS),
    )


@bp.post("/languages/<code>/questionnaires/<int:questionnaire_id>/prompts/<key>/delete")
def prompt_delete(code: str, questionnaire_id: int, key: str):
    code, _name, _language_ = _language(code)
    questionnaire = get_or_404(Questionnaire, questionnaire_id)
    form = DeletePromptForm()
    prompt = prompts_for(code, questionnaire).get(key)
    if prompt is None or not form.validate_on_submit():
        abort_with(404, _("This recording does not exist."))
    db.session.delete(prompt)
    audit(
        "language.prompt_delete",
        target=f"{code} {questionnaire.key} v{questionnaire.version}",
        key=key,
    )
    db.session.commit()
    flash(_("The recording was deleted."), "success")
    return redirect(url_for(PAGE, code=code, questionnaire_id=questionnaire.id), 303)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A 50 MB file is refused before it is read; say what the limit of a prompt is."""
    if request.endpoint == PAGE:
        return error_page(
            413,
            _(
                "Nothing was stored: the upload is larger than %(max)d MB. A spoken prompt may be at most %(kb)d KB; record a shorter prompt or save it at a lower bitrate.",
                max=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
                kb=MAX_BYTES // 1024,
            ),
        )
    return error_page(413)
