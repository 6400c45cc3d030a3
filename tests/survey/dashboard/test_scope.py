"""An analyst limited to an agency subtree sees nothing else: not in the table, the agency
pages, the charts, the exports, nor through an API key limited the same way."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa

from survey.credentials import issue_api_key
from survey.extensions import db
from survey.models import Agency, Role
from tests.conftest import html
from tests.survey.dashboard.conftest import QUARTER, rows_by_code

SUBTREE = {"SYT", "BVDK"}


def _routes(code: str) -> list[str]:
    q = f"period={QUARTER}"
    return [
        f"/dashboard?{q}&agency={code}",
        f"/dashboard/agency/{code}?{q}",
        *(f"/dashboard/agency/{code}/trend.{fmt}?{q}" for fmt in ("png", "svg", "csv")),
        *(
            f"/dashboard/charts/{name}.{fmt}?{q}&agency={code}"
            for name in ("funnel", "forest")
            for fmt in ("png", "svg", "csv")
        ),
        *(f"/dashboard/export.{fmt}?{q}&agency={code}" for fmt in ("csv", "xlsx", "pdf", "json")),
    ]


@pytest.fixture
def scoped(client, login, make_user, agency):
    login(make_user(role=Role.ANALYST, agency=agency("SYT")))
    return client


@pytest.fixture
def scoped_key(app, agency):
    _row, key = issue_api_key("Sở Y tế", ["reports:read"], agency("SYT").id)
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_a_scoped_analyst_is_refused_every_other_agency_on_every_route(scoped, scoped_key):
    others = db.session.scalars(sa.select(Agency.code).where(Agency.code.not_in(SUBTREE))).all()
    assert len(others) == 22
    for code in others:
        for url in _routes(code):
            response = scoped.get(url)
            assert response.status_code == 403, url
        api = scoped.get(f"/api/v1/report?period={QUARTER}&agency={code}", headers=scoped_key)
        assert api.status_code == 403, code
        assert api.json["field"] == "agency"


def test_a_scoped_analyst_may_use_every_route_inside_the_subtree(scoped):
    for code in SUBTREE:
        for url in _routes(code):
            if "charts/" in url and code == "SYT" and "forest" in url:
                continue
            assert scoped.get(url).status_code in (200, 404), url
    assert scoped.get(f"/dashboard/agency/BVDK?period={QUARTER}").status_code == 200


def test_a_scoped_analysts_default_views_hold_the_subtree_only(scoped):
    rows = rows_by_code(scoped.get(f"/dashboard?period={QUARTER}"))
    assert set(rows) == SUBTREE
    exported = csv.reader(
        io.StringIO(scoped.get(f"/dashboard/export.csv?period={QUARTER}").data.decode("utf-8-sig"))
    )
    assert {row[0] for row in list(exported)[1:]} == SUBTREE
    data = json.loads(scoped.get(f"/dashboard/export.json?period={QUARTER}").data)
    assert {a["code"] for a in data["agencies"]} == SUBTREE
    funnel = scoped.get(f"/dashboard/charts/funnel.csv?period={QUARTER}").data.decode("utf-8-sig")
    assert {row["code"] for row in csv.DictReader(io.StringIO(funnel))} <= SUBTREE
    comments = html(scoped.get(f"/dashboard/agency/SYT?period={QUARTER}")).select(
        "#comments li .muted"
    )
    assert comments and all(
        "Sở Y tế" in c.get_text() or "Bệnh viện" in c.get_text() for c in comments
    )


def test_a_scoped_api_key_reads_its_subtree_by_default(client, scoped_key):
    response = client.get(f"/api/v1/report?period={QUARTER}", headers=scoped_key)
    assert response.status_code == 200
    assert {a["code"] for a in response.json["agencies"]} == SUBTREE
