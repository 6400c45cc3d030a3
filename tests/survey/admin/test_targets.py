"""Targets: edit the table, and see which target applies to each agency on a date."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Kind, Level, Target, TargetScope
from tests.conftest import count, html, text_of
from tests.survey.admin.conftest import post


def target_data(**overrides) -> dict:
    return {
        "rate": "95",
        "valid_from": "2026-01-01",
        "valid_to": "",
        "scope": "all",
        "kind": "",
        "agency": "",
        "note": "Kế hoạch 2026",
        **overrides,
    }


def applied(client, day: str) -> dict[str, str]:
    page = html(client.get(f"/admin/targets?day={day}"))
    return {
        row["data-code"]: row.select_one("td.target").get_text(strip=True)
        for row in page.select("#applies tbody tr")
    }


def test_an_agency_target_applies_to_its_subtree_and_the_rest_keep_the_general_one(
    admin_client, make_agency
):
    province = make_agency(code="P", level=Level.PROVINCE)
    district = make_agency(code="H", level=Level.DISTRICT, parent=province)
    commune = make_agency(code="X", parent=district)
    other = make_agency(code="Y", parent=province)
    response = post(
        admin_client,
        "/admin/targets/new",
        target_data(rate="82,5", scope="agency", agency=str(district.id)),
    )
    assert response.status_code == 303
    stored = db.session.scalar(sa.select(Target).where(Target.scope == TargetScope.AGENCY))
    assert stored.rate == pytest.approx(0.825) and stored.agency_id == district.id
    assert applied(admin_client, "2026-03-01") == {
        "P": "90,0%",
        "H": "82,5%",
        "X": "82,5%",
        "Y": "90,0%",
    }
    # Before the agency target starts, the 2016-2020 target of 80% is in force.
    assert applied(admin_client, "2019-06-30")["X"] == "80,0%"
    assert commune.id and other.id


def test_a_kind_target_applies_to_agencies_of_that_kind(admin_client, make_agency):
    make_agency(code="BV", kind=Kind.HEALTH, level=Level.SERVICE_UNIT)
    make_agency(code="XA")
    post(admin_client, "/admin/targets/new", target_data(rate="70", scope="kind", kind="health"))
    assert applied(admin_client, "2026-05-01") == {"BV": "70,0%", "XA": "90,0%"}


@pytest.mark.parametrize(
    ("field", "value", "selector", "message"),
    [
        ("rate", "150", "#rate-error", "Hãy nhập tỷ lệ phần trăm từ 1 đến 99,9."),
        ("rate", "abc", "#rate-error", "Hãy nhập tỷ lệ phần trăm từ 1 đến 99,9."),
        ("valid_to", "2025-01-01", "#valid_to-error", "Ngày kết thúc trước ngày bắt đầu."),
        ("valid_from", "01/2026", "#valid_from-error", "Hãy nhập ngày theo dạng YYYY-MM-DD."),
        ("scope", "agency", "#agency-error", "Hãy chọn cơ quan áp dụng chỉ tiêu này."),
    ],
)
def test_bad_targets_are_refused_with_a_message(admin_client, field, value, selector, message):
    before = count(Target)
    response = post(admin_client, "/admin/targets/new", target_data(**{field: value}))
    assert response.status_code == 400
    assert text_of(response, selector) == message
    assert count(Target) == before


def test_a_target_is_edited_and_deleted(admin_client):
    target = db.session.scalar(sa.select(Target).where(Target.valid_to.is_(None)))
    edit = admin_client.get(f"/admin/targets/{target.id}/edit")
    assert html(edit).select_one("#rate")["value"] == "90"
    response = post(
        admin_client,
        f"/admin/targets/{target.id}/edit",
        target_data(rate="92", valid_from="2021-01-01"),
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Target, target.id).rate == pytest.approx(0.92)
    assert post(admin_client, f"/admin/targets/{target.id}/delete").status_code == 303
    assert db.session.get(Target, target.id) is None


def test_a_bad_lookup_date_is_a_400_with_the_message(admin_client):
    response = admin_client.get("/admin/targets?day=31-31-2026")
    assert response.status_code == 400
    assert text_of(response, "#day-error") == "Hãy nhập ngày theo dạng YYYY-MM-DD."
