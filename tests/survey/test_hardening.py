"""Regression tests for findings of the outside security review (issue 12) that have no test
file of their own: each test names the finding it protects. docs/security.md has the table."""

from __future__ import annotations

import csv
import io
import uuid

import openpyxl
import pytest
import sqlalchemy as sa

from survey.api.auth import issue_api_key
from survey.extensions import db
from survey.models import Channel, Response, Role, Status, utcnow
from tests.conftest import csrf_token

EVIL = [
    '=HYPERLINK("http://evil.example","x")',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(1)",
]


@pytest.fixture
def boss_client(client, login, make_user):
    login(make_user(role=Role.ADMIN, email="boss@example.org"))
    return client


def stored_response(desk, status=Status.VALID) -> Response:
    response = Response(
        id=uuid.uuid4(),
        desk_id=desk.id,
        agency_id=desk.agency_id,
        questionnaire_id=desk.current_questionnaire().id,
        channel=Channel.QR,
        level="hai_long",
        satisfied=True,
        occurred_at=utcnow(),
        received_at=utcnow(),
        status=status,
        status_reason="client_burst" if status == Status.FLAGGED else None,
        content_hash=uuid.uuid4().hex,
    )
    db.session.add(response)
    db.session.commit()
    return response


# ---- finding 4: formula injection in exports --------------------------------------------------


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def _xlsx_cells(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [
        (cell.value, cell.data_type)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
    ]


def test_agency_names_that_look_like_formulas_are_not_formulas_in_any_export(
    app, boss_client, make_agency, make_desk
):
    agencies = [make_agency(name=name) for name in EVIL]
    for agency in agencies:
        make_desk(agency=agency)
    data = boss_client.get("/admin/agencies/export.csv").data
    cells = _csv_cells(data)
    for name in EVIL:
        assert name not in cells  # never a bare formula...
        assert "'" + name in cells  # ...but the name, shown as text
    xlsx = _xlsx_cells(boss_client.get("/admin/agencies/export.xlsx").data)
    for name in EVIL:
        assert (name, "s") in xlsx  # the same text the analyst typed, stored as text
    assert all(kind != "f" for _value, kind in xlsx)
    for fmt in ("csv", "xlsx"):
        response = boss_client.get(f"/dashboard/export.{fmt}")
        assert response.status_code == 200, fmt
        if fmt == "csv":
            assert not any(cell.startswith(tuple("=+-@")) for cell in _csv_cells(response.data))
        else:
            assert all(kind != "f" for _value, kind in _xlsx_cells(response.data))


def test_no_module_writes_csv_without_neutralising_cells():
    """Every CSV writer of the product is survey.spreadsheets.CsvWriter."""
    from pathlib import Path

    import survey

    root = Path(survey.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "csv.writer(" in path.read_text() and path.name != "spreadsheets.py"
    ]
    assert offenders == []


def test_numbers_stay_numbers():
    from survey.spreadsheets import csv_cell

    assert csv_cell(-0.25) == -0.25
    assert csv_cell("Xã An") == "Xã An"
    assert csv_cell("=1+1") == "'=1+1"


# ---- finding 6: empty periods and new agencies ------------------------------------------------


def test_a_new_agency_and_an_empty_period_show_an_empty_state(boss_client, make_agency):
    agency = make_agency(code="XMOI")
    for path in (
        f"/dashboard/agency/{agency.code}",
        f"/dashboard/agency/{agency.code}?period=2020",
        f"/dashboard/agency/{agency.code}/trend.csv",
        f"/dashboard/agency/{agency.code}/trend.csv?period=2020",
    ):
        assert boss_client.get(path).status_code == 200, path


# ---- finding 7: what-if targets that round to 0 or 1 ---------------------------------------------


@pytest.mark.parametrize("target", ["0.00001", "5e-324", "99.9999999", "0.0000001%"])
def test_a_target_that_rounds_to_0_or_100_is_a_400_naming_the_field(client, target):
    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    response = client.get(
        f"/api/v1/report?target={target}", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400
    assert "target" in response.get_data(as_text=True)


# ---- finding 10: decisions apply to flagged responses only ---------------------------------------


def test_a_never_flagged_response_cannot_be_excluded(client, login, make_user, desk):
    analyst = make_user(role=Role.ANALYST)
    login(analyst)
    response = stored_response(desk, Status.VALID)
    token = csrf_token(client.get("/review/"))
    result = client.post(
        f"/review/{response.id}",
        data={"csrf_token": token, "decision": "excluded", "reason": "không thích"},
    )
    assert result.status_code == 409
    db.session.expire_all()
    assert db.session.get(Response, response.id).status == Status.VALID


def test_a_flagged_response_is_decided_and_the_decision_can_be_revised(
    client, login, make_user, desk
):
    login(make_user(role=Role.ANALYST))
    response = stored_response(desk, Status.FLAGGED)
    token = csrf_token(client.get("/review/"))
    for decision in ("excluded", "valid"):
        result = client.post(
            f"/review/{response.id}",
            data={"csrf_token": token, "decision": decision, "reason": "đã kiểm tra"},
        )
        assert result.status_code == 303, decision
        db.session.expire_all()
        assert str(db.session.get(Response, response.id).status) == decision


# ---- finding 14: one dossier-code rule for every channel --------------------------------------


@pytest.mark.parametrize("code", ["<script>alert(1)</script>", "HS 01", "abc\ndef", "x" * 65])
def test_the_responses_api_refuses_a_dossier_code_the_form_refuses(client, desk, code):
    _row, key = issue_api_key("iGate", ["responses:write"])
    db.session.commit()
    body = {
        "id": str(uuid.uuid4()),
        "desk": desk.code,
        "level": "hai_long",
        "dossier_code": code,
    }
    response = client.post(
        "/api/v1/responses", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == "dossier_code"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


def test_a_valid_dossier_code_is_accepted_by_the_api(client, desk):
    _row, key = issue_api_key("iGate", ["responses:write"])
    db.session.commit()
    body = {
        "id": str(uuid.uuid4()),
        "desk": desk.code,
        "level": "hai_long",
        "dossier_code": "000.00.12.H56-260105-0001",
    }
    response = client.post(
        "/api/v1/responses", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
