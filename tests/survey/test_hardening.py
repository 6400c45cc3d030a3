"""Regression tests for findings of the outside security review (docs/security.md) that have no test
file of their own: each test names the finding it protects. docs/security.md has the table."""

from __future__ import annotations

import csv
import io
import uuid

import openpyxl
import pytest
import sqlalchemy as sa

from survey.credentials import issue_api_key
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
    modules = list(root.rglob("*.py"))
    assert len(modules) > 100, "expected the modules of survey/"
    offenders = [
        str(path.relative_to(root))
        for path in modules
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


# ---- findings 5, 8, 11: hostile and broken import files ---------------------------------------


def _xlsx_with(parts: dict[str, bytes]) -> bytes:
    """A minimal XLSX (from openpyxl) with some parts replaced or added."""
    import zipfile

    book = openpyxl.Workbook()
    book.active.append(["desk_code", "date", "level"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename not in parts:
                target.writestr(item, source.read(item))
        for name, data in parts.items():
            if data is not None:
                target.writestr(name, data)
    return out.getvalue()


def _bomb(name: str, size: int) -> bytes:
    """A part that expands to `size` bytes of shared strings, compressed to a few hundred KB."""
    import zipfile

    out = io.BytesIO()
    base = _xlsx_with({})
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item))
        with target.open(name, "w", force_zip64=True) as member:
            member.write(
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
            )
            chunk = b"A" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                member.write(chunk)
            member.write(b"</t></si></sst>")
    return out.getvalue()


def test_an_xlsx_bomb_is_refused_quickly_without_memory_growth(app):
    """Finding 5: 800 MiB of shared strings in a file of about 1 MB."""
    import resource
    import time

    from survey.imports import import_paper

    data = _bomb("xl/sharedStrings.xml", 800 * 1024 * 1024)
    assert len(data) < 2 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with app.test_request_context():
        result = import_paper(io.BytesIO(data))
        message = str(result.errors[0].message) if result.errors else ""
    elapsed = time.monotonic() - started
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert not result.ok
    assert [error.row for error in result.errors] == [None]  # one message for the file
    assert "Excel" in message
    assert elapsed < 10, elapsed
    assert grown_mib < 200, grown_mib
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


SHEETS = (
    b'<sheets><sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    b' name="Sheet" sheetId="1" state="visible" r:id="rId1"/></sheets>'
)
WORKBOOK = (
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    + SHEETS
    + b"</workbook>"
)


@pytest.mark.parametrize(
    "parts",
    [
        {"xl/workbook.xml": WORKBOOK.replace(SHEETS, b"<sheets/>")},  # no worksheet
        {"xl/workbook.xml": b'<!DOCTYPE x [<!ENTITY a "b">]>' + WORKBOOK},  # a DTD
        {"xl/worksheets/sheet1.xml": b'<!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'},
        {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row><c><v>1</v></c>"},  # cut off
    ],
    ids=["no-worksheet", "dtd-workbook", "dtd-sheet", "truncated-xml"],
)
@pytest.mark.parametrize("kind", ["paper", "agencies"])
def test_an_unreadable_xlsx_is_a_clear_row_error_not_a_500(boss_client, parts, kind):
    """Finding 8."""
    response = boss_client.post(
        f"/admin/imports/{kind}",
        data={
            "csrf_token": csrf_token(boss_client.get(f"/admin/imports/{kind}")),
            "file": (io.BytesIO(_xlsx_with(parts)), "x.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Không mở được tệp Excel này" in response.get_data(as_text=True)


def test_an_unbalanced_quote_in_a_paper_csv_is_a_row_error(app, make_desk):
    """Finding 11: the quote never closes; the next rows must not vanish into the comment."""
    from survey.imports import import_paper

    make_desk(code="D1")
    data = (
        "desk_code,date,level,comment\r\n"
        'D1,2026-01-05,hai_long,"Cán bộ nhiệt tình\r\n'
        "D1,2026-01-06,khong_hai_long,Chờ lâu\r\n"
        'D1,2026-01-07,hai_long,"Tốt"\r\n'
    ).encode()
    with app.test_request_context():
        result = import_paper(io.BytesIO(data))
    assert not result.ok
    assert result.errors[0].row == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


def test_the_import_upload_limit_fits_a_real_batch(app):
    from survey.admin.uploads import IMPORT_MAX_BYTES

    assert 16 * 1024 * 1024 <= IMPORT_MAX_BYTES <= 32 * 1024 * 1024


# ---- finding 12: the OpenAPI document is valid OpenAPI 3.0 ---------------------------------------


def test_the_openapi_document_is_valid_openapi_3_0(app, client):
    """Checked by openapi-spec-validator, a validator nobody on this project wrote."""
    from openapi_spec_validator import OpenAPIV30SpecValidator

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.0")
    errors = [
        f"{list(e.path)}: {e.message}" for e in OpenAPIV30SpecValidator(document).iter_errors()
    ]
    assert errors == []


def _key(*scopes):
    _row, key = issue_api_key("Sở Nội vụ", list(scopes))
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("target", "status"),
    [("0.0001", 200), ("99.9999", 200), ("0.00009", 400), ("99.99991", 400), ("5e-324", 400)],
)
def test_a_target_is_accepted_exactly_within_the_documented_bounds(client, target, status):
    """Schemathesis sent target=5e-324, inside the document's old bounds (0, 100) exclusive,
    and got a 400: the bounds are now the ones the server uses, 0.0001 to 99.9999."""
    schema = client.get("/api/v1/openapi.json").json["paths"]["/report"]["get"]
    bounds = next(p["schema"] for p in schema["parameters"] if p["name"] == "target")
    assert (bounds["minimum"], bounds["maximum"]) == (0.0001, 99.9999)
    response = client.get(f"/api/v1/report?target={target}", headers=_key("reports:read"))
    assert response.status_code == status, response.json


@pytest.mark.parametrize("period", ["´", "2026-13", "2026-02-30..2026-03-01", "0" * 39])
def test_a_report_period_that_is_no_period_is_a_documented_422(client, period):
    """`period` is documented as text (up to 40 characters): text the server cannot read as a
    period follows the document, so it is a 422 naming the field, and 422 is documented."""
    response = client.get(
        "/api/v1/report", query_string={"period": period}, headers=_key("reports:read")
    )
    assert response.status_code == 422
    assert response.json["field"] == "period"
    operation = client.get("/api/v1/openapi.json").json["paths"]["/report"]["get"]
    assert "422" in operation["responses"]


def test_report_kind_and_level_are_documented_as_the_values_the_server_takes(client):
    from survey.models import Kind, Level

    operation = client.get("/api/v1/openapi.json").json["paths"]["/report"]["get"]
    enums = {p["name"]: p["schema"].get("enum") for p in operation["parameters"]}
    assert enums["kind"] == [k.value for k in Kind]
    assert enums["level"] == [lv.value for lv in Level]


def test_the_heartbeat_refuses_null_and_the_document_says_it_is_not_nullable(app, client, desk):
    from survey.credentials import issue_kiosk_token
    from survey.models import Kiosk

    kiosk = Kiosk(desk=desk, name="Máy 1")
    db.session.add(kiosk)
    token = issue_kiosk_token(kiosk)
    db.session.commit()
    for name in ("rejected", "app_version"):
        response = client.post(
            "/api/v1/kiosk/heartbeat",
            json={"queue_length": 0, name: None},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 400
        assert response.content_type == "application/problem+json"
        assert response.json["field"] == name
        assert "null" in response.json["detail"]
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).last_seen_at is None
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]["KioskHeartbeat"]
    assert not any(field.get("nullable") for field in schema["properties"].values())


def test_tickets_document_exactly_one_of_desk_and_agency(client, desk):
    """The server's rule, "exactly one of desk and agency", is in the schema as a oneOf, which
    a third-party validator enforces the same way."""
    from jsonschema import Draft4Validator

    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]["TicketIn"]
    validator = Draft4Validator({"required": schema["required"], "oneOf": schema["oneOf"]})
    headers = _key("tickets:write")
    for body, valid in [
        ({"dossier_code": "HS-1", "desk": desk.code}, True),
        ({"dossier_code": "HS-2", "agency": desk.agency.code}, True),
        ({"dossier_code": "HS-3", "desk": desk.code, "agency": desk.agency.code}, False),
        ({"dossier_code": "HS-4"}, False),
    ]:
        assert validator.is_valid(body) is valid, body
        response = client.post("/api/v1/tickets", json=body, headers=headers)
        assert (response.status_code < 300) is valid, (body, response.json)
        if not valid:
            assert response.status_code == 400 and response.json["field"] == "desk"


def test_every_api_body_refuses_null_for_every_field(client, desk):
    """Decided once, in survey.payloads.field: no request field is nullable."""
    from survey.api.openapi import document

    fields = document()["components"]["schemas"]["TicketIn"]["properties"]
    assert {"dossier_code", "desk"} <= set(fields)
    for name in fields:
        body = {"dossier_code": "HS-1", "desk": desk.code, name: None}
        response = client.post("/api/v1/tickets", json=body, headers=_key("tickets:write"))
        assert response.status_code == 400, name
        assert response.json["field"] == name


# ---- finding 15: the public page cannot be undone by subtraction ---------------------------------


def test_complementary_suppression_when_exactly_one_child_is_small():
    from types import SimpleNamespace as Row

    from survey.public.views import suppressed

    def row(code, parent, valid):
        return Row(code=code, parent_code=parent, valid=valid)

    rows = [
        row("TINH", None, 300),
        row("XA", "TINH", 10),  # the one small child
        row("XB", "TINH", 120),
        row("XC", "TINH", 170),
        row("XC1", "XC", 100),
        row("XC2", "XC", 70),
    ]
    small, complement = suppressed(rows, 30)
    assert small == {"XA"}
    assert complement == {"XB"}  # the smallest shown sibling: TINH − XC leaves XA + XB
    # Two small children already protect each other.
    rows[2] = row("XB", "TINH", 20)
    assert suppressed(rows, 30) == ({"XA", "XB"}, set())
    # A complement with children of its own hides one of them too (else XB = XB1 + XB2).
    rows[2] = row("XB", "TINH", 120)
    rows += [row("XB1", "XB", 60), row("XB2", "XB", 60)]
    small, complement = suppressed(rows, 30)
    assert complement == {"XB", "XB1"}
    # An only child that is small: its parent would give it away.
    assert suppressed([row("TINH", None, 90), row("SYT", "TINH", 90), row("BV", "SYT", 5)], 30)[
        1
    ] >= {"SYT"}
