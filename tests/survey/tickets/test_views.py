"""The citizen's page for a one-time dossier ticket at /t/<token>."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from survey.extensions import db
from survey.models import Response, Ticket, utcnow
from survey.tickets.service import SALT
from tests.conftest import count, form_fields, html, text_of


def test_ticket_page_is_the_desk_survey_without_the_dossier_field(client, make_ticket):
    ticket, path = make_ticket(dossier_code="000.00.12.H01-261121-0001")
    response = client.get(path)
    assert response.status_code == 200
    page = html(response)
    assert text_of(response, "h1") == "Đánh giá mức độ hài lòng"
    assert page.select_one("input[name=dossier_code]") is None
    assert "000.00.12.H01-261121-0001" in text_of(response, "p.dossier")
    assert page.select_one("form")["action"] == path
    assert len(page.select("fieldset.rating input[type=radio]")) == 3


def test_a_ticket_rating_carries_the_dossier_code_and_uses_the_ticket(client, make_ticket):
    ticket, path = make_ticket(dossier_code="H01-0042")
    fields = form_fields(client.get(path))
    response = client.post(path, data={**fields, "rating": "hai_long", "comment": "Nhanh"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(path + "/thanks")
    stored = db.session.scalar(sa.select(Response))
    assert (stored.dossier_code, stored.ticket_id, stored.channel) == ("H01-0042", ticket.id, "qr")
    db.session.refresh(ticket)
    assert ticket.used_at is not None
    assert text_of(client.get(response.headers["Location"]), "h1") == "Cảm ơn Ông/Bà đã đánh giá"


def test_1000_replays_of_a_used_ticket_are_all_refused_leaving_one_row(client, make_ticket):
    _, path = make_ticket()
    fields = form_fields(client.get(path))
    assert client.post(path, data={**fields, "rating": "hai_long"}).status_code == 303
    refused = 0
    for i in range(1000):
        replay = dict(
            fields, rating="khong_hai_long", response_id=f"00000000-0000-4000-8000-{i:012d}"
        )
        response = client.post(path, data=replay)
        refused += response.status_code == 410
    assert refused == 1000
    assert count(Response) == 1
    assert db.session.scalar(sa.select(Response.level)) == "hai_long"


def test_a_used_ticket_shows_a_kind_page(client, make_ticket):
    _, path = make_ticket(dossier_code="H01-7")
    fields = form_fields(client.get(path))
    client.post(path, data={**fields, "rating": "hai_long"})
    response = client.get(path)
    assert response.status_code == 410
    assert text_of(response, "h1") == "Hồ sơ này đã được đánh giá"
    assert "H01-7" in text_of(response, "main")
    assert html(response).select_one("form") is None


def test_pressing_send_twice_on_a_ticket_stores_one_row_and_thanks(client, make_ticket):
    _, path = make_ticket()
    fields = {**form_fields(client.get(path)), "rating": "rat_hai_long"}
    assert client.post(path, data=fields).status_code == 303
    again = client.post(path, data=fields)
    assert again.status_code == 303
    assert again.headers["Location"].endswith("/thanks")
    assert count(Response) == 1


def test_an_expired_ticket_shows_a_kind_page_and_stores_nothing(client, make_ticket):
    ticket, path = make_ticket()
    fields = form_fields(client.get(path))
    ticket.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(path, data={**fields, "rating": "hai_long"})
    assert response.status_code == 410
    assert text_of(response, "h1") == "Đường dẫn khảo sát đã hết hạn"
    assert client.get(path).status_code == 410
    assert count(Response) == 0
    db.session.refresh(ticket)
    assert ticket.used_at is None


def test_a_forged_ticket_token_is_a_friendly_404(client, make_ticket):
    ticket, path = make_ticket()
    forged = URLSafeSerializer("not-our-secret", salt=SALT).dumps([ticket.id, 0])
    for bad in (f"/t/{forged}", path[:-3] + "abc", "/t/x", "/t/" + "A" * 300):
        response = client.get(bad)
        assert response.status_code == 404, bad
        assert "quét lại mã QR" in text_of(response, "main")
        assert client.post(bad, data={"rating": "hai_long"}).status_code in (400, 404)
    assert count(Response) == 0


def test_a_token_of_a_deleted_ticket_is_refused(client, make_ticket):
    ticket, path = make_ticket()
    db.session.delete(ticket)
    db.session.commit()
    assert client.get(path).status_code == 404


def test_a_ticket_rating_is_refused_without_a_rating_and_keeps_the_ticket(client, make_ticket):
    ticket, path = make_ticket()
    fields = form_fields(client.get(path))
    response = client.post(path, data={**fields, "comment": "Tốt"})
    assert response.status_code == 400
    assert "Vui lòng chọn mức độ hài lòng." in text_of(response, "fieldset.rating .errors")
    db.session.refresh(ticket)
    assert ticket.used_at is None and count(Response) == 0


def test_a_ticket_for_an_inactive_desk_is_410(client, make_ticket, desk):
    _, path = make_ticket()
    desk.active = False
    db.session.commit()
    assert client.get(path).status_code == 410
    assert count(Ticket) == 1


def test_a_stale_session_shows_the_ticket_form_again_and_keeps_the_ticket(client, make_ticket):
    ticket, path = make_ticket()
    fields = form_fields(client.get(path))
    del fields["csrf_token"]  # as when the phone kept the page open past the session
    response = client.post(path, data={**fields, "rating": "hai_long", "comment": "Tốt"})
    assert response.status_code == 400
    page = html(response)
    assert "Chưa có gì được lưu" in text_of(response, ".error-summary")
    assert page.select_one("input[name=rating][value=hai_long]").has_attr("checked")
    assert page.select_one("input[name=csrf_token]")["value"]
    assert page.select_one("form")["action"] == path
    db.session.refresh(ticket)
    assert ticket.used_at is None and count(Response) == 0


def test_the_ticket_page_says_the_rating_is_linked_to_the_dossier(client, make_ticket):
    # Issue 17, point 6: not "anonymous" beside the dossier number it shows.
    _ticket, path = make_ticket(dossier_code="000.00.12.H01-261121-0002")
    privacy = text_of(client.get(path), "p.privacy")
    assert "ẩn danh" not in privacy
    assert "gắn với hồ sơ" in privacy and "hồ sơ của ai" in privacy
