"""Agencies: create, edit, move without loops, deactivate instead of delete, export."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Agency, AuditLog, Level
from tests.conftest import count, html, text_of
from tests.survey.admin.conftest import post


def agency_data(**overrides) -> dict:
    data = {
        "code": "XAB",
        "name": "Xã An Bình",
        "name_en": "",
        "parent": "",
        "level": "commune",
        "kind": "administrative",
        "questionnaire": "",
    }
    return {**data, **overrides}


def test_an_admin_creates_an_agency_under_a_parent(admin_client, make_agency):
    province = make_agency(code="HN", name="Tỉnh Hài Long", level=Level.PROVINCE)
    response = post(admin_client, "/admin/agencies/new", agency_data(parent=str(province.id)))
    assert response.status_code == 303
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == "XAB"))
    assert agency.parent_id == province.id and agency.level == Level.COMMUNE
    page = admin_client.get(response.headers["Location"])
    assert text_of(page, "#agency-code") == "XAB"
    assert db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target == "XAB")) == (
        "agency.create"
    )


def test_a_new_agency_defaults_to_the_province_not_a_second_top_level(admin_client, make_agency):
    # Issue 17, point 13: the empty choice (top of the tree) stays offered, but not preselected.
    province = make_agency(code="HN", name="Tỉnh Hài Long", level=Level.PROVINCE)
    form = html(admin_client.get("/admin/agencies/new"))
    selected = form.select_one("select#parent option[selected]")
    assert selected["value"] == str(province.id)
    assert form.select_one("select#parent option[value='']") is not None
    # An explicit ?parent= still wins.
    child = make_agency(code="SYT", name="Sở Y tế", parent=province, level=Level.DEPARTMENT)
    form = html(admin_client.get(f"/admin/agencies/new?parent={child.id}"))
    assert form.select_one("select#parent option[selected]")["value"] == str(child.id)


def test_the_tree_lists_children_under_their_parent(admin_client, make_agency):
    province = make_agency(code="P", name="Tỉnh", level=Level.PROVINCE)
    make_agency(code="C2", parent=province)
    make_agency(code="C1", parent=province)
    rows = html(admin_client.get("/admin/agencies")).select("#agencies tbody tr")
    assert [row["data-code"] for row in rows] == ["P", "C1", "C2"]
    assert "depth-1" in rows[1].select_one("td")["class"]


def test_a_duplicate_code_is_refused_with_a_message(admin_client, make_agency):
    make_agency(code="XAB")
    response = post(admin_client, "/admin/agencies/new", agency_data())
    assert response.status_code == 400
    assert text_of(response, "#code-error") == "Một cơ quan khác đã dùng mã này."
    assert count(Agency) == 1


def test_an_empty_name_is_refused_and_nothing_is_written(admin_client):
    response = post(admin_client, "/admin/agencies/new", agency_data(name=""))
    assert response.status_code == 400
    assert text_of(response, "#name-error") == "Vui lòng nhập tên."
    assert count(Agency) == 0


def test_moving_an_agency_under_its_own_child_is_refused(admin_client, make_agency):
    parent = make_agency(code="D1", level=Level.DISTRICT)
    child = make_agency(code="C1", parent=parent)
    response = post(
        admin_client,
        f"/admin/agencies/{parent.id}/edit",
        agency_data(code="D1", name=parent.name, level="district", parent=str(child.id)),
    )
    assert response.status_code == 400
    assert "vòng lặp" in text_of(response, "#parent-error")
    db.session.expire_all()
    assert db.session.get(Agency, parent.id).parent_id is None


def test_moving_an_agency_to_another_parent_works(admin_client, make_agency):
    old, new = make_agency(code="OLD"), make_agency(code="NEW")
    child = make_agency(code="C1", parent=old)
    response = post(
        admin_client,
        f"/admin/agencies/{child.id}/edit",
        agency_data(code="C1", name=child.name, parent=str(new.id)),
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Agency, child.id).parent_id == new.id


def test_an_agency_with_responses_cannot_be_deleted_but_can_be_deactivated(
    admin_client, make_desk, make_response
):
    desk = make_desk()
    make_response(desk, datetime(2026, 1, 5, 3))
    agency_id = desk.agency_id
    page = html(admin_client.get(f"/admin/agencies/{agency_id}"))
    assert not page.select(f"form[action='/admin/agencies/{agency_id}/delete']")
    refused = post(admin_client, f"/admin/agencies/{agency_id}/delete")
    assert refused.status_code == 409
    assert "ngừng hoạt động" in text_of(refused, ".error-page p")
    assert post(admin_client, f"/admin/agencies/{agency_id}/deactivate").status_code == 303
    db.session.expire_all()
    agency = db.session.get(Agency, agency_id)
    assert agency is not None and agency.active is False


def test_an_empty_agency_can_be_deleted(admin_client, make_agency):
    agency = make_agency(code="TMP")
    assert post(admin_client, f"/admin/agencies/{agency.id}/delete").status_code == 303
    assert count(Agency) == 0


def test_the_export_is_a_csv_excel_opens_with_parents_first(admin_client, make_agency):
    province = make_agency(code="Z", name="Tỉnh Hài Long", level=Level.PROVINCE)
    make_agency(code="A", name="Xã Ân Thạnh", parent=province)
    response = admin_client.get("/admin/agencies/export.csv")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["code", "name", "parent_code", "level", "kind", "name_en"]
    assert rows[1][:4] == ["Z", "Tỉnh Hài Long", "", "province"]
    assert rows[2][:3] == ["A", "Xã Ân Thạnh", "Z"]


def test_an_unknown_export_format_is_404(admin_client):
    assert admin_client.get("/admin/agencies/export.pdf").status_code == 404
