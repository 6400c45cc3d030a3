"""GET /api/v1/report: the same numbers as the dashboard, for integrators (on the demo
province)."""

from __future__ import annotations

import pytest

from survey import reporting
from survey.credentials import issue_api_key
from survey.extensions import db
from tests.survey.demo_province import QUARTER, database_url, demo_today  # noqa: F401


@pytest.fixture
def reader(app):
    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_the_report_needs_a_key_with_the_reports_scope(client, app):
    assert client.get(f"/api/v1/report?period={QUARTER}").status_code == 401
    _row, key = issue_api_key("iGate", ["responses:write"])
    db.session.commit()
    response = client.get(
        f"/api/v1/report?period={QUARTER}", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"


def test_the_report_gives_counts_intervals_verdicts_p_values_and_responses_needed(
    client, reader, app
):
    response = client.get(f"/api/v1/report?period={QUARTER}", headers=reader)
    assert response.status_code == 200
    body = response.json
    assert body["period"] == {
        "key": QUARTER,
        "label": "Quý 3/2026",
        "start": "2026-07-01",
        "end": "2026-09-30",
        "previous": "2026-Q2",
    }
    agencies = {a["code"]: a for a in body["agencies"]}
    assert len(agencies) == 24
    xts = agencies["XTS"]
    assert xts["verdict"] == "inconclusive" and xts["responses_needed"] > 0 and xts["small_sample"]
    assert agencies["XVL"]["verdict"] == "below" and agencies["XVL"]["p_below"] < 0.001
    result = reporting.table.assess(xts["satisfied"], xts["valid"], 0.9, 0.95, "wilson")
    assert xts["low"] == pytest.approx(result.low) and xts["p_meets"] == pytest.approx(
        result.p_meets
    )
    assert body["summary"]["valid"] == agencies["DEMO"]["valid"]


def test_an_agency_narrows_the_report_to_its_subtree(client, reader):
    response = client.get(f"/api/v1/report?period={QUARTER}&agency=SGDDT", headers=reader)
    assert [a["code"] for a in response.json["agencies"]] == ["SGDDT", "THPTC"]


@pytest.mark.parametrize(
    "query, status, field",
    [
        ("period=2026-Q9", 422, "period"),  # follows the document, names no period
        ("period=2026-Q3&confidence=x", 400, "confidence"),
        ("period=2026-Q3&method=exact", 400, "method"),
        ("period=2026-Q3&agency=NOPE", 404, "agency"),
        ("period=2026-Q3&colour=red", 400, "colour"),
    ],
)
def test_bad_report_queries_get_problem_details(client, reader, query, status, field):
    response = client.get(f"/api/v1/report?{query}", headers=reader)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.json["field"] == field


def test_the_report_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["paths"]["/report"]["get"]["operationId"] == "getReport"
    assert "ReportAgency" in document["components"]["schemas"]
