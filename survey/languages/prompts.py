"""Spoken prompts: recordings of the question, each level, each criterion and the thank-you, per
language and questionnaire version, for citizens who read poorly or not at all.

They are stored in the database (`SpokenPrompt.data`), served at a URL named by their SHA-256
(`/prompts/<digest>.ogg|.mp3`) with a year-long, immutable cache, so a new recording is a new
URL and nothing stale is ever played. The kiosk's service worker keeps them for offline use.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import url_for

from survey.extensions import db
from survey.languages.audio import AudioInfo
from survey.languages.models import SpokenPrompt
from survey.models import Questionnaire


def prompt_keys(questionnaire: Questionnaire) -> list[str]:
    """What can be recorded, in screen order."""
    return [
        "question",
        *(f"level.{level['code']}" for level in questionnaire.levels),
        *(f"criterion.{item['code']}" for item in questionnaire.criteria),
        "thanks",
    ]


def prompts_for(language: str, questionnaire: Questionnaire) -> dict[str, SpokenPrompt]:
    """{key: prompt} of one language and version (without loading the recordings)."""
    return {
        prompt.key: prompt
        for prompt in db.session.scalars(
            sa.select(SpokenPrompt).where(
                SpokenPrompt.language == language,
                SpokenPrompt.questionnaire_id == questionnaire.id,
            )
        )
    }


def prompt_url(prompt: SpokenPrompt, external: bool = False) -> str:
    return url_for("main.prompt", digest=prompt.digest, ext=prompt.extension, _external=external)


def prompt_urls(languages, questionnaire: Questionnaire) -> dict[str, dict[str, str]]:
    """{language: {key: url}} for the languages that have any recording for this version."""
    urls: dict[str, dict[str, str]] = {}
    keys = set(prompt_keys(questionnaire))
    for prompt in db.session.scalars(
        sa.select(SpokenPrompt)
        .where(
            SpokenPrompt.language.in_(list(languages)),
            SpokenPrompt.questionnaire_id == questionnaire.id,
        )
        .order_by(SpokenPrompt.id)
    ):
        if prompt.key in keys:  # a level removed from a draft leaves its recording unused
            urls.setdefault(prompt.language, {})[prompt.key] = prompt_url(prompt)
    return urls


def store(language: str, questionnaire: Questionnaire, key: str, data: bytes, info: AudioInfo):
    """Keep a checked recording (audio.check_audio), replacing the key's previous one."""
    prompt = db.session.scalar(
        sa.select(SpokenPrompt).where(
            SpokenPrompt.language == language,
            SpokenPrompt.questionnaire_id == questionnaire.id,
            SpokenPrompt.key == key,
        )
    )
    if prompt is None:
        prompt = SpokenPrompt(language=language, questionnaire=questionnaire, key=key)
        db.session.add(prompt)
    prompt.kind = info.kind
    prompt.seconds = round(info.seconds, 2)
    prompt.size = len(data)
    prompt.digest = hashlib.sha256(data).hexdigest()
    prompt.data = data
    return prompt


def recording(digest: str) -> tuple[bytes, str] | None:
    """The bytes and kind of the recording with this digest, for serving."""
    row = db.session.execute(
        sa.select(SpokenPrompt.data, SpokenPrompt.kind)
        .where(SpokenPrompt.digest == digest)
        .limit(1)
    ).first()
    return (row.data, row.kind) if row else None


def copy_prompts(source: Questionnaire, draft: Questionnaire) -> None:
    """A new draft version starts with its source's recordings, like its translations."""
    columns = [
        SpokenPrompt.language,
        SpokenPrompt.key,
        SpokenPrompt.kind,
        SpokenPrompt.seconds,
        SpokenPrompt.size,
        SpokenPrompt.digest,
        SpokenPrompt.data,
    ]
    for row in db.session.execute(
        sa.select(*columns).where(SpokenPrompt.questionnaire_id == source.id)
    ):
        db.session.add(SpokenPrompt(questionnaire=draft, **row._asdict()))


def page_prompts(wording) -> list[tuple[str, str]]:
    """(text, url) of the citizen page's recordings in its language: the question, then each
    level. Empty when none was recorded (the page then shows no player)."""
    questionnaire = wording.questionnaire
    urls = prompt_urls([wording.code], questionnaire).get(wording.code, {})
    texts = [("question", wording.ui("question"))]
    texts += [(f"level.{lvl['code']}", wording.label("level", lvl)) for lvl in questionnaire.levels]
    return [(text, urls[key]) for key, text in texts if key in urls]
