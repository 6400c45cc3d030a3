"""POST /api/v1/tickets: one-time survey tickets for dossiers, with their QR codes."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
import segno  # noqa: F401  (the QR library the API uses)
import sqlalchemy as sa
from PIL import Image

from survey.extensions import db
from survey.models import Ticket, utcnow
from tests.conftest import count
from tests.survey.api.conftest import bearer


@pytest.fixture
def ticket_key(make_api_key):
    return make_api_key(scopes=("tickets:write",))[1]


def post(client, key, **body):
    return client.post("/api/v1/tickets", json=body, headers=bearer(key))


def test_a_ticket_comes_with_its_url_and_qr_codes(client, desk, ticket_key):
    response = post(
        client,
        ticket_key,
        dossier_code="000.00.12.H01-261121-0001",
        desk=desk.code,
        procedure="Cấp bản sao trích lục hộ tịch",
        due_date="2026-11-25",
    )
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "created" and body["desk"] == desk.code
    assert body["url"].startswith("http://hailong.test/t/")
    assert body["due_date"] == "2026-11-25" and body["used"] is False
    expires = body["expires_at"]
    assert expires.endswith("Z")
    ticket = db.session.scalar(sa.select(Ticket))
    assert abs(ticket.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)
    assert (
        body["qr"]["svg"].startswith("<svg")
        and 'xmlns="http://www.w3.org/2000/svg"' in body["qr"]["svg"]
    )
    png = body["qr"]["png"]
    assert png.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1])))
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 100
    # The URL opens the citizen's form.
    page = client.get(body["url"].removeprefix("http://hailong.test"))
    assert page.status_code == 200


def test_the_qr_code_decodes_to_the_ticket_url(client, desk, ticket_key):
    pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="pyzbar is optional for this check")
    body = post(client, ticket_key, dossier_code="H01-1", desk=desk.code).json
    image = Image.open(io.BytesIO(base64.b64decode(body["qr"]["png"].split(",", 1)[1])))
    assert pyzbar.decode(image)[0].data.decode() == body["url"]


def test_asking_again_for_the_same_dossier_returns_the_same_ticket_and_updates_dates(
    client, desk, ticket_key
):
    first = post(client, ticket_key, dossier_code="H01-2", desk=desk.code, due_date="2026-11-25")
    again = post(
        client, ticket_key, dossier_code="H01-2", desk=desk.code, returned_date="2026-11-24"
    )
    assert again.status_code == 200 and again.json["status"] == "existing"
    assert again.json["url"] == first.json["url"]
    assert again.json["due_date"] == "2026-11-25"
    assert again.json["returned_date"] == "2026-11-24"
    assert count(Ticket) == 1


def test_an_agency_code_picks_its_first_active_desk(client, make_agency, make_desk, ticket_key):
    agency = make_agency()
    make_desk(agency=agency, code="Z-Q1", active=False)
    make_desk(agency=agency, code="Z-Q3")
    make_desk(agency=agency, code="Z-Q2")
    response = post(client, ticket_key, dossier_code="H01-3", agency=agency.code)
    assert response.status_code == 201
    assert response.json["desk"] == "Z-Q2"


def test_the_ttl_is_configurable(app, client, desk, ticket_key):
    app.config["TICKET_TTL_DAYS"] = 7
    post(client, ticket_key, dossier_code="H01-4", desk=desk.code)
    ticket = db.session.scalar(sa.select(Ticket))
    assert abs(ticket.expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "dossier_code"),
        ({"dossier_code": "<script>", "desk": "{desk}"}, 400, "dossier_code"),
        ({"dossier_code": "x" * 65, "desk": "{desk}"}, 400, "dossier_code"),
        ({"dossier_code": "H1"}, 400, "desk"),
        ({"dossier_code": "H1", "desk": "{desk}", "agency": "X"}, 400, "desk"),
        ({"dossier_code": "H1", "desk": "NOPE"}, 422, "desk"),
        ({"dossier_code": "H1", "agency": "NOPE"}, 422, "agency"),
        ({"dossier_code": "H1", "desk": "{desk}", "due_date": "25/11/2026"}, 400, "due_date"),
        ({"dossier_code": "H1", "desk": "{desk}", "returned_date": 20261124}, 400, "returned_date"),
        ({"dossier_code": "H1", "desk": "{desk}", "procedure": "p" * 301}, 400, "procedure"),
        ({"dossier_code": "H1", "desk": "{desk}", "surprise": True}, 400, "surprise"),
        ({"dossier_code": 42, "desk": "{desk}"}, 400, "dossier_code"),
    ],
)
def test_bad_requests_are_problems_naming_the_field_and_store_nothing(
    client, desk, ticket_key, body, status, field
):
    body = {k: (v.format(desk=desk.code) if isinstance(v, str) else v) for k, v in body.items()}
    response = post(client, ticket_key, **body)
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["field"] == field and response.json["detail"]
    assert count(Ticket) == 0


def test_a_key_without_tickets_write_or_a_kiosk_is_refused(client, desk, make_api_key, make_kiosk):
    _, reader = make_api_key(scopes=("directory:read",))
    assert post(client, reader, dossier_code="H1", desk=desk.code).status_code == 403
    _, kiosk_token = make_kiosk(desk)
    assert post(client, kiosk_token, dossier_code="H1", desk=desk.code).status_code == 403
    assert client.post("/api/v1/tickets", json={"dossier_code": "H1"}).status_code == 401
    assert count(Ticket) == 0


def test_an_agency_scoped_key_may_only_issue_in_its_subtree(
    client, make_agency, make_desk, make_api_key
):
    parent = make_agency()
    child_desk = make_desk(agency=make_agency(parent=parent))
    outside = make_desk()
    _, key = make_api_key(scopes=("tickets:write",), agency=parent)
    assert post(client, key, dossier_code="H1", desk=child_desk.code).status_code == 201
    refused = post(client, key, dossier_code="H2", desk=outside.code)
    assert refused.status_code == 403 and refused.json["field"] == "desk"
    refused = post(client, key, dossier_code="H3", agency=outside.agency.code)
    assert refused.status_code == 403 and refused.json["field"] == "agency"
    assert count(Ticket) == 1


def test_an_inactive_desk_gets_no_ticket(client, desk, ticket_key):
    desk.active = False
    db.session.commit()
    response = post(client, ticket_key, dossier_code="H1", desk=desk.code)
    assert response.status_code == 422
    assert count(Ticket) == 0


def test_the_response_through_a_ticket_keeps_the_dossier_for_on_time_analysis(
    client, desk, ticket_key
):
    from survey.models import Response
    from tests.conftest import form_fields

    body = post(
        client,
        ticket_key,
        dossier_code="H01-9",
        desk=desk.code,
        due_date="2026-11-25",
        returned_date="2026-11-27",
    ).json
    path = body["url"].removeprefix("http://hailong.test")
    fields = form_fields(client.get(path))
    assert client.post(path, data={**fields, "rating": "khong_hai_long"}).status_code == 303
    stored = db.session.scalar(sa.select(Response))
    ticket = db.session.get(Ticket, stored.ticket_id)
    assert stored.dossier_code == "H01-9"
    assert ticket.returned_date > ticket.due_date  # late: reports can split by it
    assert post(client, ticket_key, dossier_code="H01-9", desk=desk.code).json["used"] is True
