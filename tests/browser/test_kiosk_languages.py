"""The kiosk in an added language (Tày) and in faces-only mode, in Chromium, with axe-core."""

from __future__ import annotations

import pytest

from survey.extensions import db
from survey.languages.models import Language, LanguagePack
from survey.models import Questionnaire
from tests.browser import test_kiosk
from tests.browser.test_accessibility import check
from tests.browser.test_kiosk import enrol_with, new_kiosk_code, rows, wait_until_sent

desk_id = test_kiosk.desk_id  # the same fixture: an agency, a desk and an administrator


@pytest.fixture(scope="module")
def axe():
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    return axe_module.Axe()


@pytest.fixture
def tay(live_server):
    with live_server.app.app_context():
        language = Language(code="tay", name="Tày", name_vi="Tiếng Tày")
        db.session.add(
            LanguagePack(
                language=language,
                questionnaire=Questionnaire.default(),
                texts={"question": "Mình hài lòng dá đảy?", "level.hai_long": "Hài lòng đảy"},
            )
        )
        db.session.commit()


def test_a_citizen_rates_in_tay_on_a_kiosk_with_four_language_buttons_at_most(
    live_server,
    page,
    desk_id,
    tay,
    axe,  # noqa: F811
):
    code = new_kiosk_code(live_server, desk_id, languages=("en", "tay"))
    enrol_with(page, f"{live_server.url}/kiosk/enrol/{code}")
    page.locator("#lang-tay").wait_for()
    buttons = page.locator("#langs button")
    assert buttons.all_inner_texts() == ["Tiếng Việt", "English", "Tày"]
    check(axe, page, "kiosk, Vietnamese")
    page.locator("#lang-tay").click()
    assert page.locator("html").get_attribute("lang") == "tay"
    assert page.locator("#s-rate h1").inner_text() == "Mình hài lòng dá đảy?"
    labels = page.locator("#levels .level .label").all_inner_texts()
    assert labels == ["Rất hài lòng", "Hài lòng đảy", "Không hài lòng"]  # per-string fallback
    check(axe, page, "kiosk, Tày")
    page.locator("#levels .level").nth(1).click()
    page.locator("#s-thanks").wait_for()
    wait_until_sent(page)
    stored = rows(live_server)
    assert [(r.level, r.language, r.mode) for r in stored] == [("hai_long", "tay", "standard")]


def test_faces_only_shows_no_text_keeps_names_for_screen_readers_and_records_the_mode(
    live_server,
    page,
    desk_id,
    axe,  # noqa: F811
):
    code = new_kiosk_code(live_server, desk_id, faces_only=True, criteria=("c7",))
    enrol_with(page, f"{live_server.url}/kiosk/enrol/{code}")
    assert "faces-only" in page.locator("body").get_attribute("class")
    face = page.locator("#levels .level").first
    box = face.locator(".label").bounding_box()
    assert box["width"] <= 1 and box["height"] <= 1  # not visible...
    assert face.get_attribute("aria-label") is None
    assert page.get_by_role("button", name="Rất hài lòng").count() == 1  # ...but named
    check(axe, page, "kiosk, faces only")
    face.click()
    page.locator("#s-thanks").wait_for()  # no criterion screen in this mode
    wait_until_sent(page)
    assert [(r.level, r.mode) for r in rows(live_server)] == [("rat_hai_long", "faces")]
