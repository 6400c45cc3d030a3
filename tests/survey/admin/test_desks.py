"""Desks: create, show the survey URL with a copy button, deactivate, delete when unused."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Desk
from tests.conftest import count, html
from tests.survey.admin.conftest import post


def desk_data(agency, **overrides) -> dict:
    return {
        "code": "Q1",
        "name": "Quầy tiếp nhận số 1",
        "agency": str(agency.id),
        "questionnaire": "",
        **overrides,
    }


def test_a_new_desk_shows_its_survey_url_which_opens_the_survey(admin_client, make_agency):
    agency = make_agency(name="Xã An Bình")
    response = post(admin_client, f"/admin/agencies/{agency.id}/desks/new", desk_data(agency))
    assert response.status_code == 303
    page = html(admin_client.get(f"/admin/agencies/{agency.id}"))
    row = page.select_one("#desks tr[data-code=Q1]")
    url = row.select_one("input.url")["value"]
    assert row.select_one("button.copy")["data-copy"] == row.select_one("input.url")["id"]
    assert row.select_one(f"label[for={row.select_one('input.url')['id']}]") is not None
    survey = admin_client.get(urlsplit(url).path)
    assert survey.status_code == 200
    assert "Xã An Bình" in survey.get_data(as_text=True)


def test_a_desk_code_must_be_unique(admin_client, make_desk):
    existing = make_desk(code="Q1")
    response = post(
        admin_client,
        f"/admin/agencies/{existing.agency_id}/desks/new",
        desk_data(existing.agency),
    )
    assert response.status_code == 400
    assert html(response).select_one("#code-error") is not None
    assert count(Desk) == 1


def test_a_deactivated_desk_no_longer_takes_ratings(admin_client, desk, survey_path):
    assert post(admin_client, f"/admin/desks/{desk.id}/deactivate").status_code == 303
    assert admin_client.get(survey_path).status_code == 410
    assert post(admin_client, f"/admin/desks/{desk.id}/activate").status_code == 303
    assert admin_client.get(survey_path).status_code == 200


def test_a_desk_with_responses_is_kept(admin_client, desk, make_response):
    make_response(desk, datetime(2026, 1, 5, 3))
    assert post(admin_client, f"/admin/desks/{desk.id}/delete").status_code == 409
    assert count(Desk) == 1


def test_an_unused_desk_can_be_deleted(admin_client, desk):
    assert post(admin_client, f"/admin/desks/{desk.id}/delete").status_code == 303
    assert count(Desk) == 0


def test_a_desk_can_be_moved_to_another_agency(admin_client, desk, make_agency):
    other = make_agency()
    response = post(admin_client, f"/admin/desks/{desk.id}/edit", desk_data(other, code=desk.code))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(Desk.agency_id).where(Desk.id == desk.id)) == other.id


def test_a_tampered_drop_down_gets_a_vietnamese_message(admin_client, make_agency):
    agency = make_agency()
    response = post(
        admin_client,
        f"/admin/agencies/{agency.id}/desks/new",
        {**desk_data(agency), "agency": "999999", "questionnaire": "abc"},
    )
    assert response.status_code == 400
    errors = [node.get_text(strip=True) for node in html(response).select("ul.errors li")]
    expected = "Lựa chọn này không tồn tại. Vui lòng chọn một trong các phương án được hiển thị."
    assert errors.count(expected) == 2, errors
    assert "Not a valid choice" not in response.get_data(as_text=True)
    assert count(Desk) == 0
