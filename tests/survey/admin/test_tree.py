"""Merging communes: desks move, the old agencies close, and reports stay right for both the
past (old agencies) and the present (the new one)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from survey import reporting
from survey.extensions import db
from survey.models import Agency, AuditLog, Desk, Level, Response
from survey.periods import Period
from tests.conftest import html, text_of
from tests.survey.admin.conftest import post

PAST = Period("quarter", date(2025, 4, 1), date(2025, 6, 30))
PRESENT = Period("quarter", date(2025, 7, 1), date(2025, 9, 30))


def counts_by_agency(period: Period) -> dict[str, int]:
    """Responses per agency code in `period`, grouped by Response.agency_id in SQL."""
    low, high = period.utc_bounds()
    rows = db.session.execute(
        sa.select(Agency.code, sa.func.count(Response.id))
        .join(Agency, Agency.id == Response.agency_id)
        .where(Response.occurred_at >= low, Response.occurred_at < high)
        .group_by(Agency.code)
    )
    return dict(rows.all())


def setup_communes(make_agency, make_desk, make_response):
    province = make_agency(code="TINH", level=Level.PROVINCE)
    an_binh = make_agency(code="XAB", name="Xã An Bình", parent=province)
    an_phu = make_agency(code="XAP", name="Xã An Phú", parent=province)
    desk_ab, desk_ap = make_desk(agency=an_binh, code="Q-AB"), make_desk(agency=an_phu, code="Q-AP")
    for _ in range(3):
        make_response(desk_ab, datetime(2025, 5, 10, 2))
    for _ in range(2):
        make_response(desk_ap, datetime(2025, 6, 20, 2), level="khong_hai_long")
    new = make_agency(code="XABP", name="Xã An Bình Phú", parent=province)
    return province, an_binh, an_phu, desk_ab, desk_ap, new


def test_merging_two_communes_keeps_past_reports_and_starts_the_new_one(
    admin_client, make_agency, make_desk, make_response
):
    province, an_binh, an_phu, desk_ab, desk_ap, new = setup_communes(
        make_agency, make_desk, make_response
    )
    response = post(
        admin_client,
        "/admin/agencies/merge",
        {
            "sources": [str(an_binh.id), str(an_phu.id)],
            "target": str(new.id),
            "merged_on": "2025-07-01",
            "confirm": "y",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    # The desks moved; the old communes are closed and point at the new one.
    assert {d.agency_id for d in db.session.scalars(sa.select(Desk))} == {new.id}
    for old in (an_binh, an_phu):
        old = db.session.get(Agency, old.id)
        assert (old.active, old.merged_into_id) == (False, new.id)
        assert old.merged_on == date(2025, 7, 1)
    # A rating after the merger, through the same printed QR code, goes to the new commune.
    make_response(db.session.get(Desk, desk_ab.id), datetime(2025, 8, 1, 2))
    make_response(db.session.get(Desk, desk_ap.id), datetime(2025, 8, 2, 2))

    assert counts_by_agency(PAST) == {"XAB": 3, "XAP": 2}
    assert counts_by_agency(PRESENT) == {"XABP": 2}
    # The reporting seam, which the dashboard uses, agrees.
    past = reporting.counts.agency_counts(PAST)
    assert (past[an_binh.id].valid, past[an_binh.id].satisfied) == (3, 3)
    assert (past[an_phu.id].valid, past[an_phu.id].satisfied) == (2, 0)
    assert new.id not in past
    present = reporting.counts.agency_counts(PRESENT)
    assert set(present) == {new.id} and present[new.id].valid == 2

    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "agency.merge"))
    assert entry.target == "XABP"
    assert entry.detail["sources"] == ["XAB", "XAP"] and entry.detail["desks_moved"] == 2
    assert entry.detail["merged_on"] == "2025-07-01"


def test_the_new_agency_page_names_the_merged_communes(
    admin_client, make_agency, make_desk, make_response
):
    *_, new = setup_communes(make_agency, make_desk, make_response)
    sources = db.session.scalars(sa.select(Agency.id).where(Agency.code.in_(["XAB", "XAP"])))
    post(
        admin_client,
        "/admin/agencies/merge",
        {
            "sources": [str(i) for i in sources],
            "target": str(new.id),
            "merged_on": "2025-07-01",
            "confirm": "y",
        },
    )
    page = admin_client.get(f"/admin/agencies/{new.id}")
    assert [row["data-code"] for row in html(page).select("#desks tbody tr")] == ["Q-AB", "Q-AP"]
    assert "Xã An Bình (sáp nhập ngày 01/07/2025)" in text_of(page, ".facts")


def test_the_merge_form_offers_today_and_inactive_agencies_but_not_merged_ones(
    admin_client, make_agency, monkeypatch
):
    monkeypatch.setattr("survey.admin.views.local_today", lambda: date(2026, 3, 2))
    new = make_agency(code="NEW")
    closed = make_agency(code="CLOSED", active=False)
    merged = make_agency(code="GONE", active=False)
    merged.merged_into_id, merged.merged_on = new.id, date(2025, 7, 1)
    db.session.commit()
    page = html(admin_client.get("/admin/agencies/merge"))
    assert page.select_one("#merged_on")["value"] == "2026-03-02"
    offered = {box["value"] for box in page.select("input[name=sources]")}
    assert str(closed.id) in offered and str(merged.id) not in offered


def test_a_merger_done_before_hailong_is_recorded_with_its_date(
    admin_client, make_agency, make_desk, make_response
):
    """The province starts with hailong in 2026; the communes merged on 1 July 2025 and their
    old ratings were imported under the old (already inactive) communes."""
    province = make_agency(code="TINH", level=Level.PROVINCE)
    old = make_agency(code="XCU", name="Xã Cũ", parent=province)
    make_response(make_desk(agency=old), datetime(2025, 5, 10, 2))
    old.active = False
    db.session.commit()
    new = make_agency(code="XMOI", name="Xã Mới", parent=province)
    response = post(
        admin_client,
        "/admin/agencies/merge",
        {
            "sources": [str(old.id)],
            "target": str(new.id),
            "merged_on": "2025-07-01",
            "confirm": "y",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    old = db.session.get(Agency, old.id)
    assert (old.merged_into_id, old.merged_on) == (new.id, date(2025, 7, 1))


def test_a_merger_date_in_the_future_or_missing_is_refused(admin_client, make_agency):
    old, new = make_agency(), make_agency()
    for day in ("2999-01-01", "", "01/07/2025"):
        response = post(
            admin_client,
            "/admin/agencies/merge",
            {"sources": [str(old.id)], "target": str(new.id), "merged_on": day, "confirm": "y"},
        )
        assert response.status_code == 400, day
        assert html(response).select(".error-summary"), day
    db.session.expire_all()
    assert db.session.get(Agency, old.id).merged_into_id is None


def test_merging_into_an_agency_inside_a_source_is_refused(admin_client, make_agency):
    district = make_agency(code="H1", level=Level.DISTRICT)
    commune = make_agency(code="X1", parent=district)
    response = post(
        admin_client,
        "/admin/agencies/merge",
        {
            "sources": [str(district.id)],
            "target": str(commune.id),
            "merged_on": "2025-07-01",
            "confirm": "y",
        },
    )
    assert response.status_code == 400
    assert "nằm trong" in text_of(response, ".error-summary")
    db.session.expire_all()
    assert db.session.get(Agency, district.id).active is True


def test_a_merger_needs_the_confirmation_box(admin_client, make_agency):
    old, new = make_agency(), make_agency()
    response = post(
        admin_client,
        "/admin/agencies/merge",
        {"sources": [str(old.id)], "target": str(new.id), "merged_on": "2025-07-01"},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Agency, old.id).active is True


def test_merge_agencies_command_moves_desks(runner, make_agency, make_desk):
    old, new = make_agency(code="OLD"), make_agency(code="NEW")
    make_desk(agency=old)
    args = ["merge-agencies", "--into", "NEW", "OLD", "--date", "2025-07-01", "--yes"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "1 desks" in result.output and "on 2025-07-01" in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(Desk.agency_id)) == new.id
    old = db.session.get(Agency, old.id)
    assert (old.merged_into_id, old.merged_on) == (new.id, date(2025, 7, 1))


def test_merge_agencies_command_refuses_a_merged_source(runner, make_agency):
    other = make_agency(code="OTHER")
    make_agency(code="OLD", active=False, merged_into_id=other.id, merged_on=date(2025, 7, 1))
    make_agency(code="NEW")
    result = runner.invoke(args=["merge-agencies", "--into", "NEW", "OLD", "--yes"])
    assert result.exit_code == 1
    assert "đã được sáp nhập" in result.output
