"""GET /api/v1/agencies and /api/v1/desks: the directory, scoped to the key's subtree."""

from __future__ import annotations

import pytest

from survey.tokens import desk_id_from_token
from tests.survey.api.conftest import bearer


@pytest.fixture
def tree(make_agency, make_desk):
    province = make_agency(code="P")
    dept = make_agency(code="P-D", parent=province)
    unit = make_agency(code="P-D-U", parent=dept)
    other = make_agency(code="P-X", parent=province)
    desks = {
        "dept_desk": make_desk(agency=dept, code="D-Q1"),
        "unit_desk": make_desk(agency=unit, code="U-Q1"),
        "other_desk": make_desk(agency=other, code="X-Q1", active=False),
    }
    return {"province": province, "dept": dept, "unit": unit, "other": other, **desks}


def test_a_province_key_lists_every_agency_with_its_parent(client, tree, make_api_key):
    _, key = make_api_key(scopes=("directory:read",))
    response = client.get("/api/v1/agencies", headers=bearer(key))
    assert response.status_code == 200
    agencies = {a["code"]: a for a in response.json["agencies"]}
    assert set(agencies) == {"P", "P-D", "P-D-U", "P-X"}
    assert agencies["P-D-U"]["parent"] == "P-D" and agencies["P"]["parent"] is None
    assert agencies["P-D"]["level"] == "commune" and agencies["P-D"]["active"] is True


def test_desks_come_with_working_survey_urls(client, tree, make_api_key):
    _, key = make_api_key(scopes=("directory:read",))
    desks = {d["code"]: d for d in client.get("/api/v1/desks", headers=bearer(key)).json["desks"]}
    assert set(desks) == {"D-Q1", "U-Q1", "X-Q1"}
    assert desks["X-Q1"]["active"] is False and desks["U-Q1"]["agency"] == "P-D-U"
    url = desks["D-Q1"]["survey_url"]
    assert url.startswith("http://hailong.test/s/")
    assert desk_id_from_token(url.rsplit("/", 1)[1]) == tree["dept_desk"].id
    assert client.get(url.removeprefix("http://hailong.test")).status_code == 200


def test_an_agency_scoped_key_sees_its_subtree_only(client, tree, make_api_key):
    _, key = make_api_key(scopes=("directory:read",), agency=tree["dept"])
    agencies = client.get("/api/v1/agencies", headers=bearer(key)).json["agencies"]
    assert [a["code"] for a in agencies] == ["P-D", "P-D-U"]
    desks = client.get("/api/v1/desks", headers=bearer(key)).json["desks"]
    assert [d["code"] for d in desks] == ["D-Q1", "U-Q1"]
    refused = client.get("/api/v1/desks?agency=P-X", headers=bearer(key))
    assert refused.status_code == 403 and refused.json["field"] == "agency"


def test_the_agency_filter_narrows_to_a_subtree(client, tree, make_api_key):
    _, key = make_api_key(scopes=("directory:read",))
    desks = client.get("/api/v1/desks?agency=P-D-U", headers=bearer(key)).json["desks"]
    assert [d["code"] for d in desks] == ["U-Q1"]


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("?agency=NOPE", 422, "agency"),
        ("?page=2", 400, "page"),
        ("?agency=" + "x" * 41, 400, "agency"),
    ],
)
def test_bad_queries_are_problems(client, tree, make_api_key, query, status, field):
    _, key = make_api_key(scopes=("directory:read",))
    for path in ("/api/v1/agencies", "/api/v1/desks"):
        response = client.get(path + query, headers=bearer(key))
        assert response.status_code == status
        assert response.content_type == "application/problem+json"
        assert response.json["field"] == field


def test_the_directory_needs_the_directory_scope(client, tree, make_api_key, make_kiosk):
    _, writer = make_api_key(scopes=("responses:write",))
    _, kiosk = make_kiosk(tree["dept_desk"])
    for path in ("/api/v1/agencies", "/api/v1/desks"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=bearer(writer)).status_code == 403
        assert client.get(path, headers=bearer(kiosk)).status_code == 403
