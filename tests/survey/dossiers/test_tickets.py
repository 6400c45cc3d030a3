"""The dossier import: tickets created or updated by (desk, dossier code), all or nothing,
on the web and the command line."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from survey.dossiers import (
    DOSSIER_HEADER,
    import_dossiers,
)
from survey.extensions import db
from survey.models import AuditLog, Ticket, utcnow
from survey.tickets.service import TicketRequest, issue, ticket_for_token, ticket_token
from tests.conftest import count, text_of
from tests.survey.admin.conftest import admin, admin_client, post  # noqa: F401
from tests.survey.admin.files import to_csv
from tests.survey.dossiers.conftest import dossier_file, stored_tickets


@pytest.mark.parametrize("xlsx", [False, True])
def test_import_creates_tickets_whose_links_work_then_updates_the_return_date(
    client, make_desk, xlsx
):
    desk = make_desk()
    rows = [
        [desk.code, "H01-0001", "1.004227", "2026-11-20", ""],
        [desk.code, "H01-0002", "", "25/11/2026", "24/11/2026"],
    ]
    result = import_dossiers(dossier_file(rows, xlsx=xlsx))
    assert result.ok and (result.rows, result.created, result.updated) == (2, 2, 0)
    tickets = stored_tickets()
    first = tickets["H01-0001"]
    assert (first.procedure, first.due_date, first.returned_date) == (
        "1.004227",
        date(2026, 11, 20),
        None,
    )
    assert tickets["H01-0002"].returned_date == date(2026, 11, 24)
    # Each imported ticket has the same token the API would give, and its page opens.
    token = ticket_token(first)
    assert ticket_for_token(token).id == first.id
    assert client.get(f"/t/{token}").status_code == 200

    # The result of the first dossier is returned; the other row is unchanged; an empty
    # procedure cell keeps the stored procedure.
    again = [
        [desk.code, "H01-0001", "", "", "2026-11-21"],
        [desk.code, "H01-0002", "", "25/11/2026", "24/11/2026"],
    ]
    result = import_dossiers(dossier_file(again, xlsx=xlsx))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    first = stored_tickets()["H01-0001"]
    assert first.returned_date == date(2026, 11, 21) and first.procedure == "1.004227"
    assert ticket_for_token(token).id == first.id  # the printed link still works

    # Importing the same file once more changes nothing.
    before = {(t.dossier_code, t.returned_date, t.expires_at) for t in stored_tickets().values()}
    result = import_dossiers(dossier_file(again, xlsx=xlsx))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert {
        (t.dossier_code, t.returned_date, t.expires_at) for t in stored_tickets().values()
    } == before


def test_import_updates_a_ticket_the_api_issued(make_desk):
    desk = make_desk()
    ticket, _created = issue(TicketRequest(desk=desk, dossier_code="X-1", procedure="1.000001"))
    token = ticket_token(ticket)
    result = import_dossiers(dossier_file([[desk.code, "X-1", "", "", "2026-11-02"]]))
    assert (result.created, result.updated) == (0, 1)
    assert ticket_for_token(token).returned_date == date(2026, 11, 2)
    assert count(Ticket) == 1


def test_import_is_all_or_nothing_and_names_each_bad_row(make_desk):
    desk = make_desk()
    future = (utcnow() + timedelta(days=10)).date().isoformat()
    rows = [
        [desk.code, "OK-1", "1.004227", "2026-11-20", "2026-11-19"],
        ["NOPE", "OK-2", "", "", ""],
        [desk.code, "bad code with spaces", "", "", ""],
        [desk.code, "OK-3", "", "31/02/2026", ""],
        [desk.code, "OK-4", "", "", future],
        [desk.code, "OK-1", "", "", ""],
        [desk.code, "OK-5", "thủ tục", "", ""],
    ]
    result = import_dossiers(dossier_file(rows))
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "desk_code"),
        (4, "dossier_code"),
        (5, "due_date"),
        (6, "returned_date"),
        (7, "dossier_code"),
        (8, "procedure"),
    ]
    assert "row 2" in result.errors[4].message
    assert count(Ticket) == 0


def test_a_dry_run_writes_nothing(make_desk):
    desk = make_desk()
    result = import_dossiers(dossier_file([[desk.code, "D-1", "", "", ""]]), dry_run=True)
    assert result.ok and result.created == 1 and not result.written
    assert count(Ticket) == 0


def test_the_admin_imports_dossiers_on_the_web(admin_client, make_desk):  # noqa: F811
    desk = make_desk()
    page = admin_client.get("/admin/imports/dossiers")
    assert page.status_code == 200 and "returned_date" in page.get_data(as_text=True)
    data = to_csv(DOSSIER_HEADER, [[desk.code, "W-1", "1.004227", "2026-11-20", "2026-11-18"]])
    response = post(
        admin_client,
        "/admin/imports/dossiers",
        {"file": (io.BytesIO(data), "dossiers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert text_of(response, "#rows-created") == "1"
    assert stored_tickets()["W-1"].returned_date == date(2026, 11, 18)
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.action == "import.dossiers"))
    bad = to_csv(DOSSIER_HEADER, [["NOPE", "W-2", "", "", ""]])
    response = post(
        admin_client,
        "/admin/imports/dossiers",
        {"file": (io.BytesIO(bad), "dossiers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "NOPE" in text_of(response, "#import-errors")
    template = admin_client.get("/admin/imports/dossiers/template.csv")
    assert template.status_code == 200 and b"desk_code,dossier_code" in template.data


def test_an_analyst_cannot_import_dossiers(client, login, make_user):
    login(make_user())
    assert client.get("/admin/imports/dossiers").status_code in (403, 404)


def test_the_cli_imports_dossiers(runner, make_desk, tmp_path):
    desk = make_desk()
    path = tmp_path / "dossiers.csv"
    path.write_bytes(to_csv(DOSSIER_HEADER, [[desk.code, "C-1", "", "", "2026-11-03"]]))
    result = runner.invoke(args=["import-dossiers", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output
    assert stored_tickets()["C-1"].returned_date == date(2026, 11, 3)


def test_imported_tickets_follow_existing_ids_and_later_api_tickets_follow_them(client, make_desk):
    desk = make_desk()
    issued, _c = issue(TicketRequest(desk=desk, dossier_code="API-1"))
    rows = [[desk.code, f"N-{i}", "", "", ""] for i in range(5)]
    assert import_dossiers(dossier_file(rows)).created == 5
    after, _c = issue(TicketRequest(desk=desk, dossier_code="API-2"))
    tickets = stored_tickets()
    ids = sorted(t.id for t in tickets.values())
    assert len(set(ids)) == 7 and after.id == max(ids) and issued.id == min(ids)
    for ticket in tickets.values():  # every link opens its own ticket
        assert ticket_for_token(ticket_token(ticket)).id == ticket.id
    # Stored as the ORM stores times (on SQLite they are text, compared as text).
    stored = db.session.execute(sa.text("SELECT created_at, expires_at FROM ticket")).all()
    shapes = {len(v) if isinstance(v, str) else type(v) for row in stored for v in row}
    assert len(shapes) == 1, shapes
