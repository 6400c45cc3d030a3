"""A ticket's citizen reads the agency's answer on the ticket link itself, with no account."""

from __future__ import annotations

import sqlalchemy as sa

from survey.cases import service
from survey.cases.models import Case
from survey.extensions import db
from survey.tickets.service import TicketRequest, issue, ticket_token
from tests.conftest import form_fields, html, text_of


def test_the_ticket_link_shows_the_case_then_its_published_answer(client, desk):
    ticket, _ = issue(TicketRequest(desk=desk, dossier_code="H01-0099"))
    path = f"/t/{ticket_token(ticket)}"
    fields = form_fields(client.get(path))
    sent = client.post(path, data={**fields, "rating": "khong_hai_long", "comment": "Sai hẹn"})
    assert sent.status_code == 303
    thanks = client.get(sent.headers["Location"])
    case = db.session.scalar(sa.select(Case))
    assert text_of(thanks, "#case-code") == case.display_code
    assert html(thanks).select_one("#case-link")["href"].endswith(path)

    waiting = client.get(path)
    assert waiting.status_code == 200
    assert case.due_on.strftime("%d/%m/%Y") in text_of(waiting, "#case-state")
    assert html(waiting).select_one("#case-reply") is None
    assert "H01-0099" in text_of(waiting, "p.desk")

    service.reply(case, "Kính gửi Ông/Bà, hồ sơ đã được trả đúng hẹn từ hôm nay.", publish=True)
    db.session.commit()
    answered = client.get(path)
    assert answered.status_code == 200
    assert text_of(answered, "#case-reply") == case.reply


def test_a_used_ticket_without_a_case_is_still_gone(client, desk):
    ticket, _ = issue(TicketRequest(desk=desk, dossier_code="H01-0100"))
    path = f"/t/{ticket_token(ticket)}"
    fields = form_fields(client.get(path))
    client.post(path, data={**fields, "rating": "hai_long"})
    assert client.get(path).status_code == 410
