"""The kiosk in an added language and in faces-only mode: its configuration, settings, ratings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from survey.extensions import db
from survey.kiosk_settings import KioskSettings
from survey.models import Kiosk, Response
from tests.conftest import csrf_token, html
from tests.survey.kiosk.conftest import bearer


def config(client, token) -> dict:
    response = client.get("/api/v1/kiosk/config", headers=bearer(token))
    assert response.status_code == 200
    return response.get_json()


def test_an_enabled_pack_language_comes_with_its_texts_and_labels(client, make_kiosk, tay_pack):
    _kiosk, token = make_kiosk(languages=("en", "tay"))
    doc = config(client, token)
    assert [lang["code"] for lang in doc["languages"]] == ["en", "tay"]
    tay = doc["languages"][1]
    assert tay["name"] == "Tày" and tay["dir"] == "ltr"
    assert tay["texts"]["question"] == "Mình hài lòng dá đảy?"
    assert tay["texts"]["skip"] == "Bỏ qua"  # not translated: Vietnamese
    labels = [level["label"]["tay"] for level in doc["questionnaire"]["levels"]]
    assert labels == ["Hài lòng lai", "Hài lòng", "Không hài lòng"]


def test_a_language_without_a_pack_for_the_version_is_not_offered(client, make_kiosk, tay):
    _kiosk, token = make_kiosk(languages=("tay",))
    assert config(client, token)["languages"] == []


def test_faces_only_mode_drops_the_criteria_and_says_so(client, make_kiosk):
    _kiosk, token = make_kiosk(faces_only=True, criteria=("c7",))
    doc = config(client, token)
    assert doc["settings"]["faces_only"] is True
    assert doc["questionnaire"]["criteria"] == []


def test_ratings_record_language_and_mode_and_refuse_unknown_ones(client, make_kiosk, tay_pack):
    kiosk, token = make_kiosk(languages=("tay",))

    def send(**extra):
        body = {
            "id": str(uuid.uuid4()),
            "desk": kiosk.desk.code,
            "level": "hai_long",
            "client_time": datetime.now(UTC).isoformat(),
            **extra,
        }
        return client.post("/api/v1/responses", json=body, headers=bearer(token))

    assert send(language="tay", mode="faces").status_code == 201
    assert send().status_code == 201  # an older kiosk's queued rating
    refused = send(language="xyz")
    # Valid by the OpenAPI document (any short text), but no such language: a 422.
    assert refused.status_code == 422 and refused.get_json()["field"] == "language"
    refused = send(mode="voice")
    assert refused.status_code == 400 and refused.get_json()["field"] == "mode"
    stored = db.session.execute(sa.select(Response.language, Response.mode)).all()
    assert sorted(stored, key=str) == sorted([("tay", "faces"), (None, None)], key=str)


def test_settings_form_stores_languages_and_faces_only(admin_client, make_kiosk, tay_pack):
    client = admin_client
    kiosk, _token = make_kiosk()
    url = f"/admin/kiosks/{kiosk.id}/settings"
    page = client.get(url)
    values = [box["value"] for box in html(page).select("input[name=languages]")]
    assert values == ["en", "tay"]
    data = {
        "csrf_token": csrf_token(page),
        "name": kiosk.name,
        "cooldown_seconds": "10",
        "idle_seconds": "30",
        "languages": ["en", "tay"],
        "faces_only": "y",
    }
    response = client.post(url, data=data)
    assert response.status_code == 302, response.text
    db.session.expire_all()
    settings = KioskSettings.from_json(db.session.get(Kiosk, kiosk.id).settings)
    assert settings.languages == ("en", "tay") and settings.faces_only is True


def test_more_than_three_languages_are_refused(admin_client, make_kiosk, tay_pack):
    client = admin_client
    kiosk, _token = make_kiosk()
    url = f"/admin/kiosks/{kiosk.id}/settings"
    page = client.get(url)
    data = {
        "csrf_token": csrf_token(page),
        "name": kiosk.name,
        "cooldown_seconds": "10",
        "idle_seconds": "30",
        "languages": ["en", "tay", "nun", "hmn"],
    }
    assert client.post(url, data=data).status_code == 400


def test_stored_settings_with_bad_languages_fall_back_to_english():
    assert KioskSettings.from_json({"languages": ["vi"]}).languages == ("en",)
    assert KioskSettings.from_json({"languages": "tay"}).languages == ("en",)
    assert KioskSettings.from_json({"languages": ["tay", "nun"]}).languages == ("tay", "nun")
