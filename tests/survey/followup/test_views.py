"""The follow-up pages: staff record calls, administrators draw within their agency, and
who may see a draw."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.followup.models import FollowupDraw, FollowupItem
from survey.followup.service import (
    draw,
)
from survey.models import AuditLog, Role
from tests.conftest import csrf_token, html


def test_staff_record_a_call_on_the_page(frame, client, login, make_user):
    followup = draw("2026-Q3", 4, agency_code="XA", seed=5)
    item = followup.items[0]
    login(make_user(role=Role.ANALYST))
    page = client.get(f"/followup/{followup.id}")
    assert page.status_code == 200
    assert item.ticket.dossier_code in page.get_data(as_text=True)
    form_page = client.get(f"/followup/{followup.id}/items/{item.id}")
    assert form_page.status_code == 200
    token = csrf_token(form_page)
    bad = client.post(
        f"/followup/{followup.id}/items/{item.id}",
        data={"csrf_token": token, "outcome": "answered"},
    )
    assert bad.status_code == 400  # answered without a rating
    done = client.post(
        f"/followup/{followup.id}/items/{item.id}",
        data={"csrf_token": token, "outcome": "answered", "rating": "rat_hai_long"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(FollowupItem, item.id).outcome == "answered"
    assert client.get(f"/followup/{followup.id}/calls.csv").status_code == 200
    assert html(client.get("/followup/")).select_one("#draws") is not None


def test_leaders_and_other_agencies_cannot_see_a_draw(frame, client, login, make_user):
    _province, agencies, _desks, _returned = frame
    followup = draw("2026-Q3", 4, agency_code="XA", seed=5)
    login(make_user(role=Role.LEADER, agency=agencies["XA"], email="leader@example.org"))
    assert client.get(f"/followup/{followup.id}").status_code == 403
    assert client.get("/followup/").status_code == 403


def test_an_analyst_of_another_agency_gets_403(frame, client, login, make_user):
    _province, agencies, _desks, _returned = frame
    followup = draw("2026-Q3", 4, agency_code="XA", seed=5)
    login(make_user(role=Role.ANALYST, agency=agencies["XB"]))
    assert client.get(f"/followup/{followup.id}").status_code == 403
    assert client.get(f"/followup/{followup.id}/calls.csv").status_code == 403
    assert client.get("/followup/").status_code == 200


def test_an_administrator_draws_on_the_web_as_the_command_does(frame, client, login, make_user):
    _province, agencies, _desks, _returned = frame
    login(make_user(role=Role.ADMIN))
    page = client.get("/followup/")
    assert html(page).select_one("#new-draw form") is not None
    token = csrf_token(page)
    answer = client.post(
        "/followup/draws",
        data={
            "csrf_token": token,
            "period": "2026-Q3",
            "size": "12",
            "agency": str(agencies["XA"].id),
            "seed": "77",
        },
    )
    assert answer.status_code == 303
    web = db.session.scalar(sa.select(FollowupDraw).order_by(FollowupDraw.id.desc()))
    assert (web.period, web.size, web.seed, web.agency_id) == ("2026-Q3", 12, 77, agencies["XA"].id)
    again = draw("2026-Q3", 12, agency_code="XA", seed=77)
    assert [i.ticket_id for i in web.items] == [i.ticket_id for i in again.items]
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "followup.draw")
    )
    bad = client.post(
        "/followup/draws", data={"csrf_token": token, "period": "2026-Q9", "size": "5"}
    )
    assert bad.status_code == 400
    assert html(bad).select_one("#draw-error") is not None
    without_csrf = client.post("/followup/draws", data={"period": "2026-Q3", "size": "5"})
    assert without_csrf.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupDraw)) == 2


def test_only_administrators_draw_on_the_web_within_their_agency(frame, client, login, make_user):
    _province, agencies, _desks, _returned = frame
    login(make_user(role=Role.ADMIN, agency=agencies["XB"], email="admin.xb@example.org"))
    page = client.get("/followup/")
    options = [o["value"] for o in html(page).select("#new-draw select option")]
    assert options == [str(agencies["XB"].id)]  # no "every agency", no other commune
    token = csrf_token(page)
    refused = client.post(
        "/followup/draws",
        data={
            "csrf_token": token,
            "period": "2026-Q3",
            "size": "5",
            "agency": str(agencies["XA"].id),
        },
    )
    assert refused.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupDraw)) == 0


def test_analysts_see_no_draw_form_and_cannot_post_one(frame, client, login, make_user):
    login(make_user(role=Role.ANALYST))
    page = client.get("/followup/")
    assert page.status_code == 200 and html(page).select_one("#new-draw") is None
    token = csrf_token(client.get("/dashboard"))
    refused = client.post(
        "/followup/draws", data={"csrf_token": token, "period": "2026-Q3", "size": "5"}
    )
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupDraw)) == 0
