"""POST /api/v1/dossier-counts and the import of dossiers handled per desk and period: the
denominators of the response rates (survey.dossier_counts)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from survey.dossier_counts import HEADER, handled_in, import_counts
from survey.extensions import db
from survey.models import AuditLog, DossierCount
from survey.periods import parse_period
from tests.conftest import text_of
from tests.survey.admin.conftest import admin, admin_client, post  # noqa: F401
from tests.survey.admin.files import to_csv
from tests.survey.api.conftest import bearer


@pytest.fixture
def writer(make_api_key):
    return make_api_key(scopes=("tickets:write",))[1]


def send(client, key, **body):
    return client.post("/api/v1/dossier-counts", json=body, headers=bearer(key))


def stored() -> list[tuple]:
    return [
        (c.desk.code, c.start.isoformat(), c.end.isoformat(), c.handled)
        for c in db.session.scalars(sa.select(DossierCount).order_by(DossierCount.start))
    ]


def test_a_count_is_stored_once_and_replaced_by_the_same_period(client, desk, writer):
    first = send(client, writer, desk=desk.code, period="2026-07", handled=120)
    assert first.status_code == 201
    assert first.json == {
        "status": "created",
        "desk": desk.code,
        "start": "2026-07-01",
        "end": "2026-07-31",
        "handled": 120,
    }
    again = send(client, writer, desk=desk.code, period="2026-07", handled=120)
    assert (again.status_code, again.json["status"]) == (200, "unchanged")
    changed = send(client, writer, desk=desk.code, period="2026-07", handled=125)
    assert (changed.status_code, changed.json["status"]) == (200, "updated")
    assert stored() == [(desk.code, "2026-07-01", "2026-07-31", 125)]


def test_an_overlapping_period_is_refused_and_stores_nothing(client, desk, writer):
    assert send(client, writer, desk=desk.code, period="2026-07", handled=10).status_code == 201
    refused = send(client, writer, desk=desk.code, period="2026-Q3", handled=40)
    assert refused.status_code == 422
    assert refused.json["field"] == "period"
    assert stored() == [(desk.code, "2026-07-01", "2026-07-31", 10)]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"period": "2026-07", "handled": 1}, 400, "desk"),
        ({"desk": "Q-NONE", "period": "2026-07", "handled": 1}, 422, "desk"),
        # Text the OpenAPI document allows, but no period: a 422 (found by schemathesis).
        ({"desk": "DESK", "period": "2026-13", "handled": 1}, 422, "period"),
        ({"desk": "DESK", "period": "0" * 39, "handled": 1}, 422, "period"),
        ({"desk": "DESK", "period": "0" * 41, "handled": 1}, 400, "period"),
        ({"desk": "DESK", "period": None, "handled": 1}, 400, "period"),
        ({"desk": "DESK", "period": "2026-07", "handled": -1}, 400, "handled"),
        ({"desk": "DESK", "period": "2026-07", "handled": "12"}, 400, "handled"),
        ({"desk": "DESK", "period": "2026-07", "handled": 1, "agency": "X"}, 400, "agency"),
    ],
)
def test_bad_counts_are_problems_naming_the_field(client, desk, writer, body, status, field):
    body = {k: desk.code if v == "DESK" else v for k, v in body.items()}
    answer = send(client, writer, **body)
    assert answer.status_code == status
    assert answer.json["field"] == field
    assert stored() == []


def test_the_scope_and_the_agency_of_the_key_are_checked(client, desk, make_api_key, make_agency):
    reader = make_api_key(scopes=("reports:read",))[1]
    assert send(client, reader, desk=desk.code, period="2026-07", handled=1).status_code == 403
    elsewhere = make_api_key(scopes=("tickets:write",), agency=make_agency(code="OTHER"))[1]
    answer = send(client, elsewhere, desk=desk.code, period="2026-07", handled=1)
    assert (answer.status_code, answer.json["field"]) == (403, "desk")
    assert client.post("/api/v1/dossier-counts", json={}).status_code == 401
    assert stored() == []


def test_a_period_uses_the_counts_only_when_they_cover_every_day(client, desk, writer):
    send(client, writer, desk=desk.code, period="2026-07", handled=100)
    send(client, writer, desk=desk.code, period="2026-08-01..2026-08-15", handled=30)
    assert handled_in(parse_period("2026-07")) == {desk.id: 100}
    assert handled_in(parse_period("2026-Q3")) == {}  # 16 August to 30 September unknown
    send(client, writer, desk=desk.code, period="2026-08-16..2026-09-30", handled=70)
    assert handled_in(parse_period("2026-Q3")) == {desk.id: 200}
    assert handled_in(parse_period("2026-Q3"), [desk.id + 1]) == {}


def test_the_import_is_all_or_nothing_and_names_the_rows(app, desk):
    bad = (
        "desk_code,period,handled\n"
        f"{desk.code},2026-07,100\n"
        "Q-NONE,2026-08,5\n"
        f"{desk.code},2026-13,5\n"
        f"{desk.code},2026-09,many\n"
        f"{desk.code},2026-07,3\n"
    )
    with app.test_request_context():
        result = import_counts(io.BytesIO(bad.encode()))
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "desk_code"),
        (4, "period"),
        (5, "handled"),
        (6, "period"),
    ]
    assert stored() == []
    good = f"desk_code,period,handled\n{desk.code},2026-07,100\n{desk.code},2026-08,1.200\n"
    with app.test_request_context():
        first = import_counts(io.BytesIO(good.encode()))
        again = import_counts(io.BytesIO(good.encode()))
    assert (first.ok, first.created, again.created, again.unchanged) == (True, 2, 0, 2)
    assert stored() == [
        (desk.code, "2026-07-01", "2026-07-31", 100),
        (desk.code, "2026-08-01", "2026-08-31", 1200),
    ]
    overlapping = f"desk_code,period,handled\n{desk.code},2026-Q3,900\n"
    with app.test_request_context():
        refused = import_counts(io.BytesIO(overlapping.encode()))
    assert [(e.row, e.column) for e in refused.errors] == [(2, "period")]
    assert len(stored()) == 2


def test_the_admin_imports_dossier_counts_on_the_web(admin_client, desk):  # noqa: F811
    page = admin_client.get("/admin/imports/dossier-counts")
    assert page.status_code == 200 and "handled" in page.get_data(as_text=True)
    data = to_csv(HEADER, [[desk.code, "2026-Q3", "640"]])
    response = post(
        admin_client,
        "/admin/imports/dossier-counts",
        {"file": (io.BytesIO(data), "counts.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert text_of(response, "#rows-created") == "1"
    assert stored() == [(desk.code, "2026-07-01", "2026-09-30", 640)]
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.action == "import.counts"))
    bad = to_csv(HEADER, [["NOPE", "2026-Q3", "1"]])
    response = post(
        admin_client,
        "/admin/imports/dossier-counts",
        {"file": (io.BytesIO(bad), "counts.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "NOPE" in text_of(response, "#import-errors")
    template = admin_client.get("/admin/imports/counts/template.csv")
    assert template.status_code == 200 and b"desk_code,period,handled" in template.data


@pytest.mark.parametrize("agency_admin", [True, False], ids=["agency-admin", "analyst"])
def test_agency_administrators_and_analysts_cannot_import_counts(
    client, login, make_user, make_agency, agency_admin
):
    from survey.models import Role

    if agency_admin:
        login(make_user(role=Role.ADMIN, agency=make_agency(code="XAA")))
    else:
        login(make_user())
    assert client.get("/admin/imports/dossier-counts").status_code in (403, 404)
