"""GET /api/v1/kiosk/config and POST /api/v1/kiosk/heartbeat, with kiosk device tokens."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from survey.credentials import issue_api_key
from survey.extensions import db
from survey.kiosk import enrolment
from survey.models import Kiosk, Response
from tests.conftest import count
from tests.survey.kiosk.conftest import bearer


def test_config_gives_the_desk_levels_chosen_criteria_and_settings(client, make_kiosk):
    kiosk, token = make_kiosk(cooldown_seconds=4, idle_seconds=12, criteria=("attitude",))
    response = client.get("/api/v1/kiosk/config", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["desk"]["code"] == kiosk.desk.code and body["desk"]["active"] is True
    assert [lvl["code"] for lvl in body["questionnaire"]["levels"]] == [
        "rat_hai_long",
        "hai_long",
        "khong_hai_long",
    ]
    assert [lvl["satisfied"] for lvl in body["questionnaire"]["levels"]] == [True, True, False]
    assert body["questionnaire"]["levels"][0]["label"] == {
        "vi": "Rất hài lòng",
        "en": "Very satisfied",
    }
    assert body["questionnaire"]["criteria"] == [
        {
            "code": "attitude",
            "label": {"vi": "Thái độ của công chức", "en": "Attitude of the civil servants"},
        }
    ]
    settings = body["settings"]
    assert (settings["cooldown_seconds"], settings["idle_seconds"]) == (4, 12)
    assert settings["hours"] == [[0, 1440]] * 7
    assert settings["utc_offset_minutes"] == 420


def test_config_skips_criteria_the_questionnaire_no_longer_has(client, make_kiosk):
    kiosk, token = make_kiosk(criteria=("attitude", "gone"))
    body = client.get("/api/v1/kiosk/config", headers=bearer(token)).json
    assert [c["code"] for c in body["questionnaire"]["criteria"]] == ["attitude"]


def test_config_says_when_the_desk_no_longer_takes_ratings(client, make_kiosk):
    kiosk, token = make_kiosk()
    kiosk.desk.active = False
    db.session.commit()
    assert client.get("/api/v1/kiosk/config", headers=bearer(token)).json["desk"]["active"] is False


@pytest.mark.parametrize("path", ["/api/v1/kiosk/config", "/api/v1/kiosk/heartbeat"])
def test_missing_or_unknown_token_is_401(client, path):
    for headers in ({}, bearer("hk_abcdef123456_not-the-secret")):
        response = client.open(path, method="GET" if "config" in path else "POST", headers=headers)
        assert response.status_code == 401
        assert response.content_type == "application/problem+json"


def test_revoked_kiosk_gets_401_everywhere(client, make_kiosk):
    kiosk, token = make_kiosk()
    enrolment.revoke(kiosk)
    db.session.commit()
    assert client.get("/api/v1/kiosk/config", headers=bearer(token)).status_code == 401
    beat = client.post("/api/v1/kiosk/heartbeat", json={"queue_length": 0}, headers=bearer(token))
    assert beat.status_code == 401
    rating = client.post(
        "/api/v1/responses",
        json={
            "id": str(uuid.uuid4()),
            "level": "hai_long",
            "client_time": datetime.now(UTC).isoformat(),
        },
        headers=bearer(token),
    )
    assert rating.status_code == 401
    assert count(Response) == 0


def test_api_keys_cannot_use_kiosk_endpoints(client, app):
    _, key = issue_api_key("iGate", ["responses:write"])
    db.session.commit()
    response = client.get("/api/v1/kiosk/config", headers=bearer(key))
    assert response.status_code == 403
    assert (
        response.json["detail"] == "Chỉ mã thiết bị của máy đánh giá mới được dùng chức năng này."
    )


def test_heartbeat_records_last_seen_queue_and_version(client, make_kiosk):
    kiosk, token = make_kiosk()
    response = client.post(
        "/api/v1/kiosk/heartbeat",
        json={"queue_length": 7, "app_version": "0.1.0+abc", "rejected": 0},
        headers=bearer(token),
    )
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    server_time = datetime.fromisoformat(response.json["server_time"].replace("Z", "+00:00"))
    assert abs(server_time - datetime.now(UTC)) < timedelta(minutes=1)
    db.session.expire_all()
    stored = db.session.get(Kiosk, kiosk.id)
    assert (stored.queue_length, stored.app_version) == (7, "0.1.0+abc")
    assert stored.last_seen_at is not None


def test_heartbeat_logs_ratings_the_kiosk_gave_up(client, make_kiosk, caplog):
    kiosk, token = make_kiosk()
    with caplog.at_level(logging.WARNING):
        client.post(
            "/api/v1/kiosk/heartbeat",
            json={"queue_length": 0, "rejected": 2},
            headers=bearer(token),
        )
    assert any("dropped 2 rating" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "queue_length"),
        ({"queue_length": -1}, "queue_length"),
        ({"queue_length": "3"}, "queue_length"),
        ({"queue_length": True}, "queue_length"),
        ({"queue_length": 1_000_001}, "queue_length"),
        ({"queue_length": 0, "app_version": "x" * 41}, "app_version"),
        ({"queue_length": 0, "rejected": -2}, "rejected"),
        ({"queue_length": 0, "battery": 40}, "battery"),
    ],
)
def test_malformed_heartbeat_is_400_naming_the_field_and_changes_nothing(
    client, make_kiosk, body, field
):
    kiosk, token = make_kiosk()
    response = client.post("/api/v1/kiosk/heartbeat", json=body, headers=bearer(token))
    assert response.status_code == 400
    assert response.json["field"] == field
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).last_seen_at is None


def test_heartbeat_message_is_vietnamese_by_default(client, make_kiosk):
    _, token = make_kiosk()
    response = client.post(
        "/api/v1/kiosk/heartbeat", json={"queue_length": -5}, headers=bearer(token)
    )
    assert response.json["detail"] == "Trường queue_length phải nằm trong khoảng từ 0 đến 1000000."


def test_heartbeat_that_is_not_json_is_415(client, make_kiosk):
    _, token = make_kiosk()
    response = client.post("/api/v1/kiosk/heartbeat", data="queue_length=1", headers=bearer(token))
    assert response.status_code == 415


def test_kiosk_ratings_are_stored_once_with_the_tablet_time(client, make_kiosk):
    kiosk, token = make_kiosk()
    tapped = (datetime.now(UTC) - timedelta(hours=3)).astimezone().replace(microsecond=123000)
    body = {
        "id": str(uuid.uuid4()),
        "desk": kiosk.desk.code,
        "level": "rat_hai_long",
        "answers": {},
        "client_time": tapped.isoformat(timespec="milliseconds"),
    }
    first = client.post("/api/v1/responses", json=body, headers=bearer(token))
    again = client.post("/api/v1/responses", json=body, headers=bearer(token))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["status"] == "duplicate"
    assert count(Response) == 1
    stored = db.session.get(Response, uuid.UUID(body["id"]))
    assert stored.channel == "kiosk" and stored.kiosk_id == kiosk.id
    expected = tapped.astimezone(UTC).replace(tzinfo=None)
    assert stored.occurred_at == stored.client_time == expected


def test_openapi_documents_the_kiosk_endpoints(client):
    document = client.get("/api/v1/openapi.json").json
    assert "get" in document["paths"]["/kiosk/config"]
    assert "post" in document["paths"]["/kiosk/heartbeat"]
    schemas = document["components"]["schemas"]
    assert schemas["KioskHeartbeat"]["required"] == ["queue_length"]
    assert "hours" in schemas["KioskConfig"]["properties"]["settings"]["properties"]
