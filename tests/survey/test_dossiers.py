"""The dossier behind a ticket: bulk import of dossiers (return dates), procedure lists per
province, and ratings marked "before return"."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from survey import dossiers
from survey.dossiers import (
    DOSSIER_HEADER,
    PROCEDURE_HEADER,
    before_return_clause,
    import_dossiers,
    import_procedures,
    rated_before_return,
)
from survey.extensions import db
from survey.models import AuditLog, Channel, Level, Procedure, Response, Ticket, utcnow
from survey.responses import Submission, record
from survey.tickets.service import TicketRequest, issue, ticket_for_token, ticket_token
from tests.conftest import count, html, text_of
from tests.survey.admin.conftest import admin, admin_client, post  # noqa: F401
from tests.survey.admin.files import to_csv, to_xlsx


@pytest.fixture(autouse=True)
def request_context(app):
    """Messages are translated; in English here (?lang=en) so the tests can read them."""
    with app.test_request_context("/?lang=en"):
        yield


def _file(rows, header=DOSSIER_HEADER, xlsx=False) -> io.BytesIO:
    return io.BytesIO(to_xlsx(header, rows) if xlsx else to_csv(header, rows))


def _tickets() -> dict[str, Ticket]:
    db.session.expire_all()
    return {t.dossier_code: t for t in db.session.scalars(sa.select(Ticket))}


# ---- dossier import ---------------------------------------------------------------------------


@pytest.mark.parametrize("xlsx", [False, True])
def test_import_creates_tickets_whose_links_work_then_updates_the_return_date(
    client, make_desk, xlsx
):
    desk = make_desk()
    rows = [
        [desk.code, "H01-0001", "1.004227", "2026-11-20", ""],
        [desk.code, "H01-0002", "", "25/11/2026", "24/11/2026"],
    ]
    result = import_dossiers(_file(rows, xlsx=xlsx))
    assert result.ok and (result.rows, result.created, result.updated) == (2, 2, 0)
    tickets = _tickets()
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
    result = import_dossiers(_file(again, xlsx=xlsx))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    first = _tickets()["H01-0001"]
    assert first.returned_date == date(2026, 11, 21) and first.procedure == "1.004227"
    assert ticket_for_token(token).id == first.id  # the printed link still works

    # Importing the same file once more changes nothing.
    before = {(t.dossier_code, t.returned_date, t.expires_at) for t in _tickets().values()}
    result = import_dossiers(_file(again, xlsx=xlsx))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert {(t.dossier_code, t.returned_date, t.expires_at) for t in _tickets().values()} == before


def test_import_updates_a_ticket_the_api_issued(make_desk):
    desk = make_desk()
    ticket, _created = issue(TicketRequest(desk=desk, dossier_code="X-1", procedure="1.000001"))
    token = ticket_token(ticket)
    result = import_dossiers(_file([[desk.code, "X-1", "", "", "2026-11-02"]]))
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
    result = import_dossiers(_file(rows))
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
    result = import_dossiers(_file([[desk.code, "D-1", "", "", ""]]), dry_run=True)
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
    assert _tickets()["W-1"].returned_date == date(2026, 11, 18)
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
    assert _tickets()["C-1"].returned_date == date(2026, 11, 3)


# ---- procedures --------------------------------------------------------------------------------

PROCEDURES = [
    ["1.004227", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", "Copy of a civil status extract"],
    ["2.000908", "Chứng thực bản sao từ bản chính", "Chứng thực", ""],
]


def test_procedures_are_imported_per_province_and_updated_by_code(make_agency):
    province = make_agency(code="HL", name="Tỉnh Hài Long", level=Level.PROVINCE)
    result = import_procedures(_file(PROCEDURES, header=PROCEDURE_HEADER))
    assert result.ok and result.created == 2
    stored = dossiers.procedure_names(province.id)
    assert stored["1.004227"].field == "Hộ tịch"
    assert stored["2.000908"].name_en is None
    changed = [
        PROCEDURES[0],
        ["2.000908", "Chứng thực bản sao từ bản chính", "Chứng thực", "Certified copy"],
    ]
    result = import_procedures(_file(changed, header=PROCEDURE_HEADER))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    # A second province: the choice is required, and lists are kept apart.
    other = make_agency(code="HB", name="Tỉnh Hòa Bình", level=Level.PROVINCE)
    result = import_procedures(_file(PROCEDURES, header=PROCEDURE_HEADER))
    assert not result.ok and "province" in result.errors[0].message
    result = import_procedures(_file(PROCEDURES[:1], header=PROCEDURE_HEADER), province="HB")
    assert result.ok and set(dossiers.procedure_names(other.id)) == {"1.004227"}
    assert count(Procedure) == 3
    result = import_procedures(_file(PROCEDURES, header=PROCEDURE_HEADER), province="NOPE")
    assert not result.ok and count(Procedure) == 3


def test_procedure_rows_with_errors_import_nothing(make_agency):
    make_agency(code="HL", level=Level.PROVINCE)
    rows = [PROCEDURES[0], ["1 004227", "Tên", "Hộ tịch", ""], ["1.1", "", "", ""], PROCEDURES[0]]
    result = import_procedures(_file(rows, header=PROCEDURE_HEADER))
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "code"),
        (4, "name"),
        (4, "field"),
        (5, "code"),
    ]
    assert count(Procedure) == 0


def test_province_of_walks_up_the_tree(make_agency):
    province = make_agency(level=Level.PROVINCE)
    department = make_agency(parent=province, level=Level.DEPARTMENT)
    unit = make_agency(parent=department, level=Level.SERVICE_UNIT)
    assert dossiers.province_of(unit) is province
    assert dossiers.province_of(province) is province


# ---- before return -----------------------------------------------------------------------------


def test_rated_before_return_uses_the_local_day():
    returned = date(2026, 11, 20)
    # 16:59 UTC on the 19th is 23:59 in Vietnam: still before; 17:00 UTC is the 20th locally.
    assert rated_before_return(datetime(2026, 11, 19, 16, 59), returned)
    assert not rated_before_return(datetime(2026, 11, 19, 17, 0), returned)
    assert not rated_before_return(datetime(2026, 11, 25, 3, 0), returned)
    assert rated_before_return(datetime(2026, 11, 25, 3, 0), None)


def test_the_sql_before_return_agrees_with_the_python_rule(make_desk):
    desk = make_desk()
    cases = [
        (datetime(2026, 11, 19, 16, 59), date(2026, 11, 20)),
        (datetime(2026, 11, 19, 17, 0), date(2026, 11, 20)),
        (datetime(2026, 11, 19, 17, 0, 0, 1), date(2026, 11, 20)),
        (datetime(2026, 11, 25, 3, 0), date(2026, 11, 20)),
        (datetime(2026, 11, 25, 3, 0), None),
        (datetime(2026, 11, 1, 9, 0), date(2026, 11, 2)),
    ]
    expected = {}
    for i, (when, returned) in enumerate(cases):
        ticket, _created = issue(
            TicketRequest(desk=desk, dossier_code=f"B-{i}", returned_date=returned)
        )
        response, _created = record(
            Submission(
                id=uuid.uuid4(),
                desk=desk,
                questionnaire=desk.current_questionnaire(),
                channel=Channel.QR,
                level="hai_long",
                occurred_at=when,
                ticket_id=ticket.id,
            )
        )
        expected[response.id] = rated_before_return(when, returned)
    r, t = Response.__table__, Ticket.__table__
    got = dict(
        db.session.execute(
            sa.select(r.c.id, before_return_clause(r, t)).join(t, t.c.id == r.c.ticket_id)
        ).all()
    )
    assert {k: bool(v) for k, v in got.items()} == expected
    assert sum(expected.values()) == 3  # the planted cases cover both answers


def test_the_ticket_page_says_when_the_result_is_not_returned_yet(client, make_desk):
    desk = make_desk()
    waiting, _c = issue(TicketRequest(desk=desk, dossier_code="W-1"))
    page = client.get(f"/t/{ticket_token(waiting)}?lang=en")
    assert page.status_code == 200
    notice = html(page).select_one("#before-return")
    assert notice is not None and "same link" in notice.get_text()
    assert html(page).select_one("#total-time-before-return") is not None
    returned, _c = issue(
        TicketRequest(desk=desk, dossier_code="W-2", returned_date=date(2026, 1, 5))
    )
    page = client.get(f"/t/{ticket_token(returned)}")
    assert page.status_code == 200
    assert html(page).select_one("#before-return") is None
    assert html(page).select_one("#total-time-before-return") is None


def test_the_bulk_token_maker_writes_the_same_tokens_as_itsdangerous(app):
    from survey.dossiers.tokens import TokenMaker
    from survey.security import hash_token
    from survey.tickets.service import _serializer

    maker = TokenMaker(1_790_000_000)
    for ticket_id in (1, 7, 12345, 10**9 + 3):
        token = _serializer().dumps([ticket_id, 1_790_000_000])
        assert maker.token(ticket_id) == token
        assert maker.digest(ticket_id) == hash_token(token)


def test_the_short_compressor_measures_tokens_as_zlib_does(app):
    """`compressed_length` decides, as itsdangerous does with zlib.compress, whether a token
    is compressed: the same length for ordinary ids and for repetitive ones that compress."""
    import random
    import zlib

    from survey.dossiers.tokens import TokenMaker, compressed_length
    from survey.tickets.service import _serializer

    rng = random.Random(15)
    stamps = [1_790_000_000, 1_111_111_111, 1_796_083_200, rng.randrange(10**10)]
    ids = [*range(1, 400), *(int(str(d) * k) for d in range(1, 10) for k in range(1, 19))]
    ids += [rng.randrange(10**18) for _ in range(400)] + [i * 111_111 for i in range(1, 400)]
    compressible = 0
    for stamp in stamps:
        for ticket_id in ids:
            text = f"[{ticket_id},{stamp}]".encode()
            assert compressed_length(text) == len(zlib.compress(text)), text
            compressible += len(zlib.compress(text)) < len(text) - 1
    assert compressible > 10  # the test reaches the branch where itsdangerous compresses
    maker = TokenMaker(1_111_111_111)
    assert maker.token(11_111_111_111) == _serializer().dumps([11_111_111_111, 1_111_111_111])
    assert maker.token(11_111_111_111).startswith(".")  # compressed, as itsdangerous marks it


def test_imported_tickets_follow_existing_ids_and_later_api_tickets_follow_them(client, make_desk):
    desk = make_desk()
    issued, _c = issue(TicketRequest(desk=desk, dossier_code="API-1"))
    rows = [[desk.code, f"N-{i}", "", "", ""] for i in range(5)]
    assert import_dossiers(_file(rows)).created == 5
    after, _c = issue(TicketRequest(desk=desk, dossier_code="API-2"))
    tickets = _tickets()
    ids = sorted(t.id for t in tickets.values())
    assert len(set(ids)) == 7 and after.id == max(ids) and issued.id == min(ids)
    for ticket in tickets.values():  # every link opens its own ticket
        assert ticket_for_token(ticket_token(ticket)).id == ticket.id
    # Stored as the ORM stores times (on SQLite they are text, compared as text).
    stored = db.session.execute(sa.text("SELECT created_at, expires_at FROM ticket")).all()
    shapes = {len(v) if isinstance(v, str) else type(v) for row in stored for v in row}
    assert len(shapes) == 1, shapes
