"""The alerts page: scoped to the user's agencies, with a badge, states and the e-mail setting;
the outbox for admins."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey.alerts.models import Alert, AlertKind, AlertState, AlertSubscription, OutboxMessage
from survey.extensions import db
from survey.models import Role, utcnow
from tests.conftest import csrf_token, html, text_of


@pytest.fixture
def alerts(make_agency):
    mine, other = make_agency(name="Phường Hòa Thuận"), make_agency(name="Xã Khác")
    made = []
    for agency in (mine, other):
        alert = Alert(
            key=f"below:{agency.id}:2026-Q4",
            kind=AlertKind.BELOW,
            agency_id=agency.id,
            detail={
                "period": "2026-Q4",
                "rate": 0.55,
                "low": 0.45,
                "high": 0.65,
                "target": 0.9,
                "valid": 100,
            },
        )
        db.session.add(alert)
        made.append(alert)
    db.session.commit()
    return {"mine": made[0], "other": made[1], "agency": mine}


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client.get("/alerts/")), **data})


def test_staff_see_the_alerts_of_their_scope_with_a_badge(client, login, make_user, alerts):
    login(make_user(agency=alerts["agency"]))
    page = client.get("/alerts/")
    rows = html(page).select("#alerts tbody tr")
    assert len(rows) == 1
    assert "Phường Hòa Thuận dưới chỉ tiêu 90,0% trong Quý 4/2026" in rows[0].get_text()
    assert text_of(page, "nav a.nav-alerts .nav-count").startswith("1")


def test_marking_seen_then_resolving_changes_the_state_and_the_badge(
    client, login, make_user, alerts
):
    user = make_user(agency=alerts["agency"])
    login(user)
    alert = alerts["mine"]
    seen = _post(client, "/alerts/", ids=str(alert.id), seen="y")
    assert seen.status_code == 303
    db.session.refresh(alert)
    assert alert.state == AlertState.SEEN and alert.seen_at is not None
    assert html(client.get("/alerts/")).select_one("nav a.nav-alerts .nav-count") is None
    resolved = _post(
        client, "/alerts/", ids=str(alert.id), resolve="y", note="Đã họp rút kinh nghiệm"
    )
    assert resolved.status_code == 303
    db.session.refresh(alert)
    assert (alert.state, alert.note, alert.resolved_by_id) == (
        AlertState.RESOLVED,
        "Đã họp rút kinh nghiệm",
        user.id,
    )
    assert html(client.get("/alerts/")).select("#alerts tbody tr") == []
    assert len(html(client.get("/alerts/?state=resolved")).select("#alerts tbody tr")) == 1


def test_an_alert_of_another_agency_cannot_be_changed(client, login, make_user, alerts):
    login(make_user(agency=alerts["agency"]))
    refused = _post(client, "/alerts/", ids=str(alerts["other"].id), resolve="y")
    assert refused.status_code == 404
    db.session.refresh(alerts["other"])
    assert alerts["other"].state == AlertState.NEW


@pytest.mark.parametrize(
    "data",
    [{"seen": "y"}, {"ids": "x1", "seen": "y"}, {"ids": "1"}],
    ids=["nothing ticked", "bad id", "no action"],
)
def test_bad_actions_get_a_400(client, login, make_user, alerts, data):
    login(make_user(role=Role.ADMIN))
    assert _post(client, "/alerts/", **data).status_code == 400


def test_users_subscribe_and_unsubscribe_to_alert_emails(client, login, make_user):
    user = make_user()
    login(user)
    assert _post(client, "/alerts/subscription", email_me="y").status_code == 303
    assert db.session.get(AlertSubscription, user.id) is not None
    assert html(client.get("/alerts/")).select_one("#email_me").has_attr("checked")
    assert _post(client, "/alerts/subscription").status_code == 303
    assert db.session.get(AlertSubscription, user.id) is None


def test_the_outbox_is_for_admins_and_shows_waiting_messages(client, login, make_user):
    db.session.add(
        OutboxMessage(
            key="digest:1:2026-W47",
            recipient="lan@example.gov.vn",
            subject="[hailong] Tổng hợp tuần",
            text_body="x",
            html_body="<p>x</p>",
            attempts=2,
            next_attempt_at=utcnow(),
            last_error="ConnectionRefusedError: [Errno 111] Connection refused",
        )
    )
    db.session.commit()
    login(make_user())
    assert client.get("/alerts/outbox").status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/alerts/"))})
    login(make_user(role=Role.ADMIN))
    page = client.get("/alerts/outbox")
    assert text_of(page, "#pending") == "1 thư đang chờ gửi."
    assert "Connection refused" in text_of(page, "#outbox td.error")
    message = db.session.scalar(sa.select(OutboxMessage))
    app_config_server = client.application.config["MAIL_SERVER"]
    assert app_config_server  # points at a closed port in these tests: the attempt fails
    sent = client.post(
        f"/alerts/outbox/{message.id}/send",
        data={"csrf_token": csrf_token(page)},
    )
    assert sent.status_code == 303
    db.session.refresh(message)
    assert message.sent_at is None and message.attempts == 3
