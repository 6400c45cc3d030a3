"""Fixtures for language packs: the Tày language, a pack for the default questionnaire."""

from __future__ import annotations

import pytest

from survey.extensions import db
from survey.languages.models import Language, LanguagePack
from survey.models import Questionnaire
from tests.survey.admin.conftest import admin, admin_client, make_response, post  # noqa: F401
from tests.survey.kiosk.conftest import make_kiosk  # noqa: F401


@pytest.fixture
def tay(app):
    language = Language(code="tay", name="Tày", name_vi="Tiếng Tày")
    db.session.add(language)
    db.session.commit()
    return language


@pytest.fixture
def tay_pack(tay):
    pack = LanguagePack(
        language=tay,
        questionnaire=Questionnaire.default(),
        texts={
            "question": "Mình hài lòng dá đảy?",
            "level.rat_hai_long": "Hài lòng lai",
            "send": "Sống",
        },
    )
    db.session.add(pack)
    db.session.commit()
    return pack
