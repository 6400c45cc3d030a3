"""Ratings marked "before return": the Python rule, the SQL rule, and the ticket page."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa

from survey.dossiers import (
    before_return_clause,
    rated_before_return,
)
from survey.extensions import db
from survey.models import Channel, Response, Ticket
from survey.responses import Submission, record
from survey.tickets.service import TicketRequest, issue, ticket_token
from tests.conftest import html


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
