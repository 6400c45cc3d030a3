"""The review queue: analysts mark flagged responses valid or excluded, with a reason."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from survey.extensions import db
from survey.models import AuditLog, Role, Status
from survey.periods import Period
from survey.reporting.counts import agency_counts
from tests.conftest import csrf_token, html, text_of


def decide(client, path, **data):
    token = csrf_token(client.get(path))
    return client.post(path, data={"csrf_token": token, **data})


def test_anonymous_users_are_sent_to_sign_in(client, desk, make_response):
    flagged = make_response(desk)
    for path in ("/review/", f"/review/{flagged.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/auth/login" in response.headers["Location"]


def test_queue_lists_the_flagged_responses_of_the_analysts_agencies_only(
    client, login, make_agency, make_desk, make_user, make_response
):
    mine, other = make_agency(), make_agency()
    flagged = make_response(make_desk(agency=mine), comment="Gọi [***]")
    make_response(make_desk(agency=other))
    make_response(make_desk(agency=mine), status=Status.VALID, reason=None)
    login(make_user(agency=mine))
    response = client.get("/review/")
    assert response.status_code == 200
    rows = html(response).select("table.flagged tbody tr")
    assert len(rows) == 1
    assert rows[0].select_one("input[name=ids]")["value"] == str(flagged.id)
    assert "cùng một kết nối" in rows[0].get_text()
    assert text_of(response, "#flagged-total") == "1 phiếu đánh giá đang chờ xem xét."


def test_every_checkbox_and_field_of_the_queue_has_a_label(
    client, login, desk, make_user, make_response
):
    make_response(desk)
    login(make_user(role=Role.ADMIN))
    page = html(client.get("/review/"))
    inputs = page.select("form input:not([type=hidden])")
    assert inputs, "expected the queue's checkboxes and filters"
    for node in inputs:
        assert page.select_one(f"label[for='{node['id']}']") is not None, node


def test_excluding_a_response_leaves_the_rate_and_the_audit_log_says_who(
    client, login, desk, make_user, make_response
):
    make_response(desk, status=Status.VALID, reason=None, level="hai_long")
    make_response(desk, status=Status.VALID, reason=None, level="khong_hai_long")
    # Decisions are for flagged responses only (docs/security.md, finding 10): a stuffed rating was
    # flagged when it came, so it is not in the rate; excluding it keeps it out for good.
    stuffed = make_response(desk, level="rat_hai_long")
    assert stuffed.status == Status.FLAGGED
    today = stuffed.occurred_at.date()
    period = Period("custom", date(today.year, 1, 1), date(today.year, 12, 31))
    before = agency_counts(period)[desk.agency_id]
    assert (before.satisfied, before.valid, before.excluded) == (1, 2, 0)

    analyst = make_user(agency=desk.agency)
    login(analyst)
    response = decide(
        client, f"/review/{stuffed.id}", decision="excluded", reason="Cán bộ tự đánh giá"
    )
    assert response.status_code == 303
    after = agency_counts(period)[desk.agency_id]
    assert (after.satisfied, after.valid, after.excluded) == (1, 2, 1)
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "response.review"))
    assert entry.user_id == analyst.id and entry.actor == analyst.email
    assert entry.target == str(stuffed.id)
    assert entry.detail["decision"] == "excluded"
    assert entry.detail["reason"] == "Cán bộ tự đánh giá"
    assert entry.detail["previous_status"] == "flagged"
    page = client.get(f"/review/{stuffed.id}")
    assert text_of(page, "dd.status") == "Đã loại"
    assert analyst.email in text_of(page, "table.history")


def test_bulk_decision_marks_every_ticked_response_with_one_audit_entry_each(
    client, login, desk, make_user, make_response
):
    burst = [make_response(desk) for _ in range(3)]
    untouched = make_response(desk)
    login(make_user(role=Role.ADMIN))
    token = csrf_token(client.get("/review/"))
    response = client.post(
        "/review/",
        data={
            "csrf_token": token,
            "ids": [str(r.id) for r in burst],
            "decision": "valid",
            "reason": "Đoàn khách đánh giá cùng lúc qua wifi",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert [r.status for r in burst] == [Status.VALID] * 3
    assert burst[0].status_reason == "Đoàn khách đánh giá cùng lúc qua wifi"
    assert untouched.status == Status.FLAGGED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)) >= 3
    assert "Đã đánh dấu 3 phiếu đánh giá." in text_of(client.get("/review/"), ".flash")


def test_a_decision_without_a_reason_is_refused_and_changes_nothing(
    client, login, desk, make_user, make_response
):
    flagged = make_response(desk)
    login(make_user(role=Role.ADMIN))
    response = decide(client, f"/review/{flagged.id}", decision="excluded", reason="  ")
    assert response.status_code == 400
    assert "Vui lòng nêu lý do." in text_of(response, ".has-error .errors")
    db.session.refresh(flagged)
    assert flagged.status == Status.FLAGGED
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "response.review")
        )
        == 0
    )


def test_an_unknown_decision_is_refused(client, login, desk, make_user, make_response):
    flagged = make_response(desk)
    login(make_user(role=Role.ADMIN))
    response = decide(client, f"/review/{flagged.id}", decision="deleted", reason="x")
    assert response.status_code == 400
    db.session.refresh(flagged)
    assert flagged.status == Status.FLAGGED


def test_analyst_cannot_decide_on_another_agencys_response(
    client, login, make_agency, make_desk, make_user, make_response
):
    mine, other = make_agency(), make_agency()
    theirs = make_response(make_desk(agency=other))
    login(make_user(agency=mine))
    assert client.get(f"/review/{theirs.id}").status_code == 403
    refused = decide(client, "/review/", ids=str(theirs.id), decision="valid", reason="x")
    assert refused.status_code == 404
    db.session.refresh(theirs)
    assert theirs.status == Status.FLAGGED


def test_a_malformed_id_in_a_bulk_decision_is_a_400(client, login, desk, make_user, make_response):
    make_response(desk)
    login(make_user(role=Role.ADMIN))
    response = decide(client, "/review/", ids="not-a-uuid", decision="valid", reason="x")
    assert response.status_code == 400
    assert "Biểu mẫu bị lỗi" in text_of(response, "#ids-error")


def test_an_unknown_response_is_a_404(client, login, make_user):
    login(make_user(role=Role.ADMIN))
    assert client.get("/review/00000000-0000-4000-8000-000000000000").status_code == 404
