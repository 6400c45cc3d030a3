"""Language packs: add a language, translate its texts for a questionnaire version on one page
or through a CSV/XLSX file (survey/languages)."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey.admin import bp
from survey.admin.common import get_or_404, questionnaire_title
from survey.admin.language_forms import LanguageForm, PackImportForm, pack_form
from survey.audit import audit
from survey.extensions import db
from survey.imports import FileProblem
from survey.languages.models import Direction, Language, LanguagePack, SpokenPrompt
from survey.languages.packs import COMPILED, locked_keys, vietnamese
from survey.languages.strings import UI, all_keys
from survey.languages.transfer import export_pack, read_pack, where
from survey.models import Questionnaire

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _questionnaires() -> list[Questionnaire]:
    return list(
        db.session.scalars(
            sa.select(Questionnaire).order_by(Questionnaire.key, Questionnaire.version.desc())
        )
    )


@bp.route("/languages", methods=["GET", "POST"])
def languages():
    form = LanguageForm()
    if form.validate_on_submit():
        code = form.code.data.strip()
        if code in COMPILED or db.session.scalar(
            sa.select(Language.id).where(Language.code == code)
        ):
            form.code.errors.append(_("This language already exists."))
        else:
            language = Language(
                code=code,
                name=form.name.data.strip(),
                name_vi=form.name_vi.data.strip(),
                direction=Direction(form.direction.data),
            )
            db.session.add(language)
            audit("language.create", target=code, name=language.name)
            db.session.commit()
            flash(_("Language %(name)s added: now translate its texts.", name=language.name_vi))
            return redirect(url_for("admin.languages"), 303)
    status = 400 if request.method == "POST" else 200
    packs = {
        (pack.language_id, pack.questionnaire_id): pack
        for pack in db.session.scalars(sa.select(LanguagePack))
    }
    languages = list(db.session.scalars(sa.select(Language).order_by(Language.code)))
    recorded = dict(
        ((language, questionnaire_id), n)
        for language, questionnaire_id, n in db.session.execute(
            sa.select(
                SpokenPrompt.language, SpokenPrompt.questionnaire_id, sa.func.count()
            ).group_by(SpokenPrompt.language, SpokenPrompt.questionnaire_id)
        )
    )
    return (
        render_template(
            "admin/languages.html",
            form=form,
            languages=languages,
            prompt_languages=[
                ("vi", _("Vietnamese")),
                ("en", _("English")),
                *((language.code, language.name_vi) for language in languages),
            ],
            questionnaires=_questionnaires(),
            packs=packs,
            recorded=recorded,
            filled=lambda pack: sum(1 for text in pack.texts.values() if text),
            total=lambda q: len(all_keys(q)),
            title=questionnaire_title,
        ),
        status,
    )


def _pack_page(language_id: int, questionnaire_id: int):
    language = get_or_404(Language, language_id)
    questionnaire = get_or_404(Questionnaire, questionnaire_id)
    pack = db.session.get(LanguagePack, (language.id, questionnaire.id))
    return language, questionnaire, pack


def _save(language, questionnaire, pack, texts: dict[str, str], how: str) -> LanguagePack:
    """Store `texts` over the pack's (empty means: back to Vietnamese). The caller checked them."""
    if pack is None:
        pack = LanguagePack(language=language, questionnaire=questionnaire, texts={})
        db.session.add(pack)
    merged = {**pack.texts, **texts}
    pack.texts = {key: text for key, text in merged.items() if text}
    audit(
        f"language.{how}",
        target=f"{language.code} {questionnaire.key} v{questionnaire.version}",
        keys=len(texts),
    )
    db.session.commit()
    return pack


def _locked_changes(pack, texts: dict[str, str]) -> list[str]:
    if pack is None:
        return []
    locked = locked_keys(pack)
    return [key for key in texts if key in locked and texts[key] != pack.texts.get(key, "")]


@bp.route(
    "/languages/<int:language_id>/questionnaires/<int:questionnaire_id>", methods=["GET", "POST"]
)
def language_pack(language_id: int, questionnaire_id: int):
    language, questionnaire, pack = _pack_page(language_id, questionnaire_id)
    keys = all_keys(questionnaire)
    texts = dict(pack.texts) if pack else {}
    form = pack_form(keys, texts)
    locked = locked_keys(pack) if pack else set()
    notice = None
    if form.validate_on_submit():
        submitted = {key: (form[f"t{i}"].data or "").strip() for i, key in enumerate(keys)}
        refused = _locked_changes(pack, submitted)
        if refused:
            notice = _locked_message(refused)
        else:
            _save(language, questionnaire, pack, submitted, "translate")
            flash(_("Translations saved."), "success")
            return redirect(request.path, 303)
    elif request.method == "POST":
        notice = _("Please check the highlighted texts.")
    status = 400 if request.method == "POST" else 200
    return _render_pack(language, questionnaire, pack, form, locked, notice, status=status)


def _locked_message(keys: list[str]) -> str:
    return _(
        "Ratings were already given in this wording, so these texts can no longer change: %(keys)s. Copy the questionnaire to a new version to change its wording.",
        keys=", ".join(keys),
    )


def _render_pack(language, questionnaire, pack, form, locked, notice, status=200, problem=None):
    keys = all_keys(questionnaire)
    return (
        render_template(
            "admin/language_pack.html",
            language=language,
            q=questionnaire,
            pack=pack,
            form=form,
            rows=[(f"t{i}", key, where(key)) for i, key in enumerate(keys)],
            vietnamese=vietnamese(questionnaire),
            locked=locked,
            notice=notice,
            problem=problem,
            import_form=PackImportForm(formdata=None),
            title=questionnaire_title,
            ui_count=len(UI),
        ),
        status,
    )


@bp.get("/languages/<int:language_id>/questionnaires/<int:questionnaire_id>/export.<fmt>")
def language_pack_export(language_id: int, questionnaire_id: int, fmt: str):
    language, questionnaire, pack = _pack_page(language_id, questionnaire_id)
    if fmt not in MIMETYPES:
        abort(404)
    body = export_pack(questionnaire, vietnamese(questionnaire), pack.texts if pack else {}, fmt)
    name = f"hailong-{language.code}-{questionnaire.key}-v{questionnaire.version}.{fmt}"
    return Response(
        body,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/languages/<int:language_id>/questionnaires/<int:questionnaire_id>/import")
def language_pack_import(language_id: int, questionnaire_id: int):
    language, questionnaire, pack = _pack_page(language_id, questionnaire_id)
    upload = PackImportForm()
    keys = all_keys(questionnaire)
    form = pack_form(keys, dict(pack.texts) if pack else {})
    form.process(
        formdata=None,
        data={f"t{i}": (pack.texts if pack else {}).get(k, "") for i, k in enumerate(keys)},
    )
    locked = locked_keys(pack) if pack else set()
    if not upload.validate_on_submit():
        problem = "; ".join(str(e) for e in upload.file.errors) or _(
            "The form has expired. Please reload the page and try again."
        )
        return _render_pack(language, questionnaire, pack, form, locked, None, 400, problem)
    try:
        texts = read_pack(io.BytesIO(upload.file.data.read()), questionnaire)
    except FileProblem as error:
        where_ = _(" (row %(row)d)", row=error.error.row) if error.error.row else ""
        problem = _(
            "Nothing was imported: %(message)s%(where)s", message=error.error.message, where=where_
        )
        return _render_pack(language, questionnaire, pack, form, locked, None, 400, problem)
    refused = _locked_changes(pack, texts)
    if refused:
        return _render_pack(
            language, questionnaire, pack, form, locked, None, 400, _locked_message(refused)
        )
    _save(language, questionnaire, pack, texts, "import")
    flash(_("%(count)d texts imported.", count=sum(1 for t in texts.values() if t)), "success")
    return redirect(
        url_for("admin.language_pack", language_id=language.id, questionnaire_id=questionnaire.id),
        303,
    )
