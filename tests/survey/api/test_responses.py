"""POST /api/v1/responses: idempotent submissions from integrators and kiosks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Response
from tests.conftest import count
from tests.survey.api.conftest import bearer


def payload(desk, **extra):
    return {"id": str(uuid.uuid4()), "desk": desk.code, "level": "hai_long", **extra}


def test_integrator_submission_is_stored_once_with_channel_api(client, desk, api_key):
    body = payload(desk, answers={"attitude": "rat_hai_long"}, comment="Tốt")
    first = client.post("/api/v1/responses", json=body, headers=bearer(api_key))
    assert first.status_code == 201
    assert first.json == {"id": body["id"], "status": "created"}
    again = client.post("/api/v1/responses", json=body, headers=bearer(api_key))
    assert again.status_code == 200
    assert again.json["status"] == "duplicate"
    assert count(Response) == 1
    stored = db.session.scalar(sa.select(Response))
    assert stored.channel == "api" and stored.satisfied is True


def test_same_id_with_different_content_is_409_problem(client, desk, api_key):
    body = payload(desk)
    client.post("/api/v1/responses", json=body, headers=bearer(api_key))
    response = client.post(
        "/api/v1/responses", json={**body, "level": "khong_hai_long"}, headers=bearer(api_key)
    )
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert response.json["field"] == "id"
    assert count(Response) == 1


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer hl_abc_def", "Basic x"])
def test_missing_or_bad_token_is_401(client, desk, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/responses", json=payload(desk), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert count(Response) == 0


def test_key_without_the_scope_is_403(client, desk, make_api_key):
    _, key = make_api_key(scopes=("reports:read",))
    response = client.post("/api/v1/responses", json=payload(desk), headers=bearer(key))
    assert response.status_code == 403


def test_revoked_key_is_401(client, desk, make_api_key):
    row, key = make_api_key()
    row.revoked_at = datetime(2026, 1, 1)
    db.session.commit()
    assert (
        client.post("/api/v1/responses", json=payload(desk), headers=bearer(key)).status_code == 401
    )


def test_key_scoped_to_another_agency_is_403(client, desk, make_agency, make_api_key):
    _, key = make_api_key(agency=make_agency())
    response = client.post("/api/v1/responses", json=payload(desk), headers=bearer(key))
    assert response.status_code == 403
    assert response.json["field"] == "desk"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": None}, "level"),
        ({"id": "123"}, "id"),
        ({"answers": ["hai_long"]}, "answers"),
        ({"comment": "x" * 1001}, "comment"),
        ({"level": 3}, "level"),
        ({"surprise": 1}, "surprise"),
        ({"client_time": "yesterday"}, "client_time"),
        ({"client_time": "2026-11-21T09:00:00"}, "client_time"),
    ],
)
def test_malformed_payload_is_400_naming_the_field(client, desk, api_key, change, field):
    body = {**payload(desk), **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post("/api/v1/responses", json=body, headers=bearer(api_key))
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert response.json["detail"]
    assert count(Response) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": "tuyet_voi"}, "level"),
        ({"answers": {"attitude": "x"}}, "answers.attitude"),
        ({"answers": {"nope": "hai_long"}}, "answers"),
        ({"language": "xx"}, "language"),
    ],
)
def test_a_code_the_questionnaire_does_not_have_is_422_naming_the_field(
    client, desk, api_key, change, field
):
    """The body follows the OpenAPI document (a level is any short text): the code is unknown,
    which is a 422, as an unknown desk is. A 400 means that the body breaks the document."""
    response = client.post(
        "/api/v1/responses", json={**payload(desk), **change}, headers=bearer(api_key)
    )
    assert response.status_code == 422, response.json
    assert response.json["field"] == field
    assert "không" in response.json["detail"].lower()  # in the request's language (Vietnamese)
    assert count(Response) == 0


def test_unknown_desk_is_422(client, api_key, desk):
    response = client.post(
        "/api/v1/responses", json={**payload(desk), "desk": "NOPE"}, headers=bearer(api_key)
    )
    assert response.status_code == 422
    assert response.json["field"] == "desk"


def test_not_json_is_415_and_broken_json_is_400(client, api_key):
    headers = bearer(api_key)
    assert client.post("/api/v1/responses", data="x=1", headers=headers).status_code == 415
    broken = client.post(
        "/api/v1/responses", data=b"{\xff", headers=headers, content_type="application/json"
    )
    assert broken.status_code == 400
    assert broken.content_type == "application/problem+json"
    array = client.post("/api/v1/responses", json=[1], headers=headers)
    assert array.status_code == 400


def test_kiosk_submission_keeps_the_tablet_time(client, desk, make_kiosk):
    _, token = make_kiosk(desk)
    local = datetime.now(UTC) - timedelta(hours=3)
    body = {
        "id": str(uuid.uuid4()),
        "desk": desk.code,
        "level": "rat_hai_long",
        "client_time": local.isoformat(),
    }
    response = client.post("/api/v1/responses", json=body, headers=bearer(token))
    assert response.status_code == 201
    stored = db.session.scalar(sa.select(Response))
    assert stored.channel == "kiosk"
    assert stored.occurred_at == local.replace(tzinfo=None)
    assert stored.client_time == local.replace(tzinfo=None)


def test_kiosk_cannot_rate_another_desk(client, desk, make_desk, make_kiosk):
    _, token = make_kiosk(desk)
    other = make_desk()
    body = {
        "id": str(uuid.uuid4()),
        "desk": other.code,
        "level": "hai_long",
        "client_time": datetime.now(UTC).isoformat(),
    }
    response = client.post("/api/v1/responses", json=body, headers=bearer(token))
    assert response.status_code == 403
    assert count(Response) == 0


@pytest.mark.parametrize("delta", [timedelta(days=31), timedelta(hours=-1)])
def test_kiosk_time_outside_the_window_is_refused_as_not_retryable(client, desk, make_kiosk, delta):
    _, token = make_kiosk(desk)
    when = datetime.now(UTC) - delta
    body = {**payload(desk), "client_time": when.isoformat()}
    response = client.post("/api/v1/responses", json=body, headers=bearer(token))
    assert response.status_code == 422
    assert response.json["retryable"] is False
    assert count(Response) == 0


def test_revoked_kiosk_is_401(client, desk, make_kiosk):
    kiosk, token = make_kiosk(desk)
    kiosk.revoked_at = datetime(2026, 1, 1)
    db.session.commit()
    body = {
        "id": str(uuid.uuid4()),
        "level": "hai_long",
        "client_time": datetime.now(UTC).isoformat(),
    }
    assert client.post("/api/v1/responses", json=body, headers=bearer(token)).status_code == 401


def test_openapi_document_describes_responses(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert "post" in document["paths"]["/responses"]


# ---- docs/security.md, finding 12: the server and the OpenAPI document say the same thing ---


def test_a_kiosk_must_name_its_desk_as_the_document_requires(client, desk, make_kiosk):
    """`desk` is required in ResponseIn for every client; kiosks were let off before."""
    _, token = make_kiosk(desk)
    body = {**payload(desk), "client_time": datetime.now(UTC).isoformat()}
    del body["desk"]
    response = client.post("/api/v1/responses", json=body, headers=bearer(token))
    assert response.status_code == 400
    assert response.json["field"] == "desk"
    assert count(Response) == 0


def test_a_kiosk_rating_without_its_time_is_a_422(client, desk, make_kiosk):
    """Valid by the document (client_time is optional for API keys), but a kiosk must send it."""
    _, token = make_kiosk(desk)
    response = client.post("/api/v1/responses", json=payload(desk), headers=bearer(token))
    assert response.status_code == 422
    assert response.json["field"] == "client_time"
    assert count(Response) == 0


@pytest.mark.parametrize("name", ["comment", "dossier_code", "answers", "language", "mode"])
def test_null_for_an_optional_field_is_a_400_naming_it(client, desk, api_key, name):
    response = client.post(
        "/api/v1/responses", json={**payload(desk), name: None}, headers=bearer(api_key)
    )
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.json["field"] == name
    assert "null" in response.json["detail"]
    assert count(Response) == 0


@pytest.mark.parametrize("code", [" HS-1", "HS-1 ", "", "HS 1"])
def test_a_dossier_code_is_checked_as_sent_by_the_documented_pattern(client, desk, api_key, code):
    response = client.post(
        "/api/v1/responses", json={**payload(desk), "dossier_code": code}, headers=bearer(api_key)
    )
    assert response.status_code == 400
    assert response.json["field"] == "dossier_code"
