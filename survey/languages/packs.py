"""Reading packs: which languages a desk or kiosk offers, and the text of each key with its
per-string fallback to Vietnamese."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import request, session
from flask_babel import force_locale, get_locale

from survey.extensions import db
from survey.languages.models import Language, LanguagePack
from survey.languages.strings import QUESTION, UI, wording_keys
from survey.models import Questionnaire, Response

COMPILED = ("vi", "en")


def vietnamese(questionnaire: Questionnaire) -> dict[str, str]:
    """Every key's Vietnamese text: the fallback, and the source column for translators."""
    with force_locale("vi"):
        texts = {"question": str(QUESTION)}
        texts.update({key: str(msgid) for key, (msgid, _where) in UI.items()})
    texts["title"] = questionnaire.label(questionnaire.title, "vi")
    for level in questionnaire.levels:
        texts[f"level.{level['code']}"] = questionnaire.label(level, "vi")
    for item in questionnaire.criteria:
        texts[f"criterion.{item['code']}"] = questionnaire.label(item, "vi")
    return texts


@dataclass
class Wording:
    """The texts of one page: a compiled locale (`pack` is None) or an admin-added language."""

    questionnaire: Questionnaire
    locale: str
    language: Language | None = None
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.language.code if self.language else self.locale

    @property
    def direction(self) -> str:
        return str(self.language.direction) if self.language else "ltr"

    def _fallback(self, key: str) -> str:
        if "_vi" not in self.__dict__:
            self.__dict__["_vi"] = vietnamese(self.questionnaire)
        return self.__dict__["_vi"][key]

    def ui(self, key: str) -> str:
        if self.language is None:
            return str(QUESTION if key == "question" else UI[key][0])
        return self.texts.get(key) or self._fallback(key)

    def label(self, kind: str, item: dict) -> str:
        """A level's or a criterion's label (`kind` is "level" or "criterion")."""
        if self.language is None:
            return self.questionnaire.label(item, self.locale)
        return self.texts.get(f"{kind}.{item['code']}") or self.questionnaire.label(item, "vi")


def pack_for(language: Language, questionnaire: Questionnaire) -> LanguagePack | None:
    return db.session.get(LanguagePack, (language.id, questionnaire.id))


def language_by_code(code: str | None) -> Language | None:
    if not code or code in COMPILED:
        return None
    return db.session.scalar(sa.select(Language).where(Language.code == code))


def offered(codes, questionnaire: Questionnaire) -> list[Language]:
    """The languages among `codes` that have a pack for `questionnaire`, in `codes` order."""
    codes = [c for c in (codes or []) if isinstance(c, str) and c not in COMPILED]
    if not codes:
        return []
    found = {
        language.code: language
        for language in db.session.scalars(
            sa.select(Language)
            .join(LanguagePack, LanguagePack.language_id == Language.id)
            .where(Language.code.in_(codes), LanguagePack.questionnaire_id == questionnaire.id)
        )
    }
    return [found[c] for c in codes if c in found]


def wording(questionnaire: Questionnaire, locale: str, language: Language | None) -> Wording:
    if language is None:
        return Wording(questionnaire, locale)
    pack = pack_for(language, questionnaire)
    return Wording(questionnaire, "vi", language, dict(pack.texts) if pack else {})


def locked_keys(pack: LanguagePack) -> set[str]:
    """The wording keys that ratings were already given in: changing them would mix wordings."""
    used = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Response)
        .where(
            Response.questionnaire_id == pack.questionnaire_id,
            Response.language == pack.language.code,
        )
    )
    # Filling in a key that fell back to Vietnamese changes the wording as much as editing one.
    return set(wording_keys(pack.questionnaire)) if used else set()


def copy_packs(source: Questionnaire, draft: Questionnaire) -> None:
    """A new draft version starts with its source's translations (unlocked again)."""
    for pack in db.session.scalars(
        sa.select(LanguagePack).where(LanguagePack.questionnaire_id == source.id)
    ):
        db.session.add(
            LanguagePack(
                language_id=pack.language_id, questionnaire_id=draft.id, texts=dict(pack.texts)
            )
        )


def language_names() -> dict[str, str]:
    """Every language code a rating can carry, named in the current locale (reports)."""
    from flask_babel import gettext as _

    names = {"vi": _("Vietnamese"), "en": _("English")}
    for language in db.session.scalars(sa.select(Language)):
        names[language.code] = language.name_vi
    return names


def page_language(desk, questionnaire: Questionnaire) -> tuple[Wording, list[Language]]:
    """The wording of a citizen's page at `desk`, and the admin-added languages the desk offers.

    ?lang=<code> picks an offered language (remembered in the session, like vi/en); ?lang=vi
    or ?lang=en goes back to a compiled catalogue.
    """
    languages = offered(desk.languages, questionnaire)
    requested = request.args.get("lang")
    if requested in COMPILED:
        session.pop("pack_lang", None)
    elif requested and any(lang.code == requested for lang in languages):
        session["pack_lang"] = requested
    code = session.get("pack_lang")
    language = next((lang for lang in languages if lang.code == code), None)
    return wording(questionnaire, str(get_locale()), language), languages
