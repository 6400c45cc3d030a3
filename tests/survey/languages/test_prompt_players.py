"""Where spoken prompts play: the kiosk (configuration, shell, service worker, setting) and the
citizen page (a player that loads nothing until pressed)."""

from __future__ import annotations

import re

from survey.extensions import db
from survey.kiosk_settings import KioskSettings
from survey.languages.audio import AudioInfo
from survey.languages.prompts import store
from survey.models import Questionnaire
from tests.conftest import html
from tests.survey.kiosk.conftest import bearer
from tests.survey.kiosk.test_admin import settings_data


def record(language: str, key: str, body: bytes = b"ID3 recording", kind: str = "mp3"):
    """A stored prompt (the upload's checks are tested in test_prompts.py)."""
    prompt = store(
        language,
        Questionnaire.default(),
        key,
        body + language.encode() + key.encode(),
        AudioInfo(kind, 1.5),
    )
    db.session.commit()
    return f"/prompts/{prompt.digest}.{prompt.extension}"


def test_the_kiosk_configuration_lists_the_recordings_of_its_languages(
    client, make_kiosk, tay_pack
):
    question_vi = record("vi", "question")
    question_tay = record("tay", "question", kind="opus")
    level_tay = record("tay", "level.hai_long")
    record("en", "question")  # English is not among this kiosk's languages
    record("tay", "level.gone")  # no such level in this version
    _kiosk, token = make_kiosk(languages=("tay",), speak_on_approach=True)
    doc = client.get("/api/v1/kiosk/config", headers=bearer(token)).get_json()
    assert doc["prompts"] == {
        "vi": {"question": question_vi},
        "tay": {"question": question_tay, "level.hai_long": level_tay},
    }
    assert doc["settings"]["speak_on_approach"] is True
    assert client.get(question_tay).status_code == 200


def test_speak_on_approach_is_a_setting_that_reads_back_off_by_default():
    assert KioskSettings.from_json({}).speak_on_approach is False
    assert KioskSettings.from_json({"speak_on_approach": "yes"}).speak_on_approach is False
    stored = KioskSettings(speak_on_approach=True).to_json()
    assert KioskSettings.from_json(stored).speak_on_approach is True


def test_the_settings_page_turns_speaking_on(admin_client, make_kiosk):
    kiosk, _token = make_kiosk()
    data = settings_data(admin_client, kiosk, speak_on_approach="y")
    response = admin_client.post(f"/admin/kiosks/{kiosk.id}/settings", data=data)
    assert response.status_code == 302
    db.session.refresh(kiosk)
    assert KioskSettings.from_json(kiosk.settings).speak_on_approach is True


def test_the_shell_has_a_speaker_on_each_screen_a_start_screen_and_one_player(client):
    page = html(client.get("/kiosk"))
    assert {b["data-screen"] for b in page.select("button.speak")} == {
        "rate",
        "criterion",
        "thanks",
    }
    assert all(b.select_one("svg[aria-hidden=true]") for b in page.select("button.speak"))
    assert page.select_one("#s-attract button#start") is not None
    assert len(page.select("audio#voice")) == 1


def test_the_service_worker_serves_the_recordings_from_their_cache(client):
    body = client.get("/kiosk/sw.js").get_data(as_text=True)
    assert re.search(r"const PROMPTS = \"/prompts/\";", body)
    assert "hailong-prompts" in body


def test_blob_audio_is_allowed_by_the_content_security_policy(client):
    policy = client.get("/kiosk").headers["Content-Security-Policy"]
    assert "media-src 'self' blob:" in policy


def test_the_citizen_page_offers_players_that_load_nothing_until_pressed(
    client, desk, tay_pack, survey_path
):
    desk.languages = ["tay"]
    db.session.commit()
    assert html(client.get(f"{survey_path}?lang=tay")).select(".listen") == []
    question = record("tay", "question", kind="opus")
    level = record("tay", "level.rat_hai_long")
    record("vi", "question")
    page = html(client.get(f"{survey_path}?lang=tay"))
    players = page.select(".listen audio")
    assert [(a["src"], a["preload"]) for a in players] == [(question, "none"), (level, "none")]
    labels = [page.select_one(f"#{a['aria-labelledby']}").get_text() for a in players]
    assert labels == ["Mình hài lòng dá đảy?", "Hài lòng lai"]
    vietnamese = html(client.get(f"{survey_path}?lang=vi")).select(".listen audio")
    assert len(vietnamese) == 1


def test_the_citizen_page_with_a_language_pack_and_prompts_weighs_at_most_30_kb(
    client, desk, tay_pack, survey_path
):
    desk.languages = ["tay"]
    db.session.commit()
    for key in ("question", "level.rat_hai_long", "level.hai_long", "level.khong_hai_long"):
        record("tay", key, body=b"x" * 200_000)  # what a player would fetch if it preloaded
    response = client.get(f"{survey_path}?lang=tay")
    page = html(response)
    assert len(page.select(".listen audio[preload=none]")) == 4
    total = len(response.data)
    for link in page.select("link[rel=stylesheet]"):
        asset = client.get(link["href"])
        total += len(asset.data)
        asset.close()
    assert page.select("script[src]") == []
    assert total <= 30 * 1024, f"citizen page weighs {total} bytes"
