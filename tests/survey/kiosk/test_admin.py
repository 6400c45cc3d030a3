"""Administrators' kiosk pages: list, create with a QR enrolment code, revoke, settings."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.kiosk_settings import DEFAULT_HOURS, KioskSettings
from survey.models import AuditLog, Kiosk, Role
from survey.security import hash_token
from tests.conftest import count, csrf_token, form_fields, html, text_of
from tests.survey.kiosk.conftest import bearer


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)))


def settings_data(client, kiosk, **changes) -> dict:
    """What the settings form sends as it stands, with `changes` (None: leave a field out)."""
    page = html(client.get(f"/admin/kiosks/{kiosk.id}/settings"))
    data: dict = {}
    for node in page.select("main form input"):
        if node["type"] == "checkbox":
            if node.has_attr("checked"):
                data.setdefault(node["name"], []).append(node["value"])
        else:
            data[node["name"]] = node.get("value", "")
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    "path",
    ["/admin/kiosks", "/admin/kiosks/new", "/admin/kiosks/1/settings", "/admin/kiosks/1/revoke"],
)
def test_kiosk_pages_send_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_analysts_may_not_manage_kiosks(client, make_user, login, make_kiosk):
    kiosk, _ = make_kiosk()
    login(make_user(role=Role.ANALYST))
    assert client.get("/admin/kiosks").status_code == 403
    token = csrf_token(client.get("/"))  # any page with a token: the session has one
    response = client.post(f"/admin/kiosks/{kiosk.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).revoked_at is None


def test_list_shows_desk_state_last_seen_version_and_queue(client, admin, make_kiosk):
    kiosk, token = make_kiosk(name="Máy cạnh cửa")
    _, _ = make_kiosk(name="Máy chờ đăng ký", enrolled=False)
    client.post(
        "/api/v1/kiosk/heartbeat",
        json={"queue_length": 12, "app_version": "0.1.0+abcdef1234"},
        headers=bearer(token),
    )
    response = client.get("/admin/kiosks")
    assert response.status_code == 200
    row = html(response).select_one(f"tr#kiosk-{kiosk.id}")
    assert row["data-state"] == "enrolled"
    assert row.select_one(".name").get_text(strip=True) == "Máy cạnh cửa"
    assert kiosk.desk.name in row.select_one(".desk").get_text()
    assert row.select_one(".seen time") is not None
    assert row.select_one(".version").get_text(strip=True) == "0.1.0+abcdef1234"
    assert row.select_one(".queue").get_text(strip=True) == "12"
    states = [tr["data-state"] for tr in html(response).select("tbody tr")]
    assert sorted(states) == ["enrolled", "waiting"]


def test_creating_a_kiosk_shows_a_one_time_qr_code_and_stores_only_its_hash(
    client, admin, make_desk
):
    desk = make_desk(name="Quầy trả kết quả")
    form = client.get("/admin/kiosks/new")
    options = [o["value"] for o in html(form).select("select#desk option")]
    assert str(desk.id) in options
    data = {**form_fields(form), "desk": str(desk.id), "name": "Máy sảnh A"}
    response = client.post("/admin/kiosks/new", data=data)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = html(response)
    code = page.select_one("#enrol-code").get_text(strip=True)
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)
    link = page.select_one("#enrol-link")["href"]
    assert link == f"http://hailong.test/kiosk/enrol/{code}"
    assert page.select_one("figure.qr-code svg.qr title") is not None
    assert page.select("[style]") == []
    kiosk = db.session.scalar(sa.select(Kiosk))
    assert kiosk.desk_id == desk.id and kiosk.name == "Máy sảnh A"
    assert kiosk.enrol_code_hash == hash_token(code.replace("-", ""))
    assert kiosk.token_hash is None
    assert KioskSettings.from_json(kiosk.settings).cooldown_seconds == 10
    assert audit_actions() == ["login", "kiosk.create"]
    # The link works on the tablet.
    assert client.get(link.removeprefix("http://hailong.test")).status_code == 200


def test_qr_link_uses_the_public_base_url_when_configured(app, client, admin, make_desk):
    app.config["PUBLIC_BASE_URL"] = "https://hailong.example.gov.vn"
    desk = make_desk()
    form = client.get("/admin/kiosks/new")
    response = client.post(
        "/admin/kiosks/new", data={**form_fields(form), "desk": str(desk.id), "name": "Máy 1"}
    )
    link = html(response).select_one("#enrol-link")["href"]
    assert link.startswith("https://hailong.example.gov.vn/kiosk/enrol/")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"desk": ""}, "Vui lòng chọn quầy."),
        ({"desk": "999999"}, "Lựa chọn này không tồn tại."),
        ({"name": ""}, "Vui lòng đặt tên cho máy tính bảng."),
        ({"name": "x" * 121}, "Vui lòng dùng tối đa 120 ký tự."),
    ],
)
def test_bad_new_kiosk_is_400_with_a_message_and_writes_nothing(
    client, admin, make_desk, change, message
):
    desk = make_desk()
    form = client.get("/admin/kiosks/new")
    data = {**form_fields(form), "desk": str(desk.id), "name": "Máy 1", **change}
    response = client.post("/admin/kiosks/new", data=data)
    assert response.status_code == 400
    assert message in text_of(response, "main form")
    assert count(Kiosk) == 0


def test_inactive_desks_are_not_offered(client, admin, make_desk):
    closed = make_desk(active=False)
    form = client.get("/admin/kiosks/new")
    assert str(closed.id) not in [o["value"] for o in html(form).select("select#desk option")]
    response = client.post(
        "/admin/kiosks/new", data={**form_fields(form), "desk": str(closed.id), "name": "Máy"}
    )
    assert response.status_code == 400
    assert count(Kiosk) == 0


def test_creating_without_csrf_token_is_refused(client, admin, make_desk):
    desk = make_desk()
    response = client.post("/admin/kiosks/new", data={"desk": str(desk.id), "name": "Máy"})
    assert response.status_code == 400
    assert count(Kiosk) == 0


def test_revoking_asks_first_then_stops_the_token_and_is_audited(client, admin, make_kiosk):
    kiosk, token = make_kiosk()
    confirm = client.get(f"/admin/kiosks/{kiosk.id}/revoke")
    assert confirm.status_code == 200
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).revoked_at is None
    response = client.post(f"/admin/kiosks/{kiosk.id}/revoke", data=form_fields(confirm))
    assert response.status_code == 302
    assert client.get("/api/v1/kiosk/config", headers=bearer(token)).status_code == 401
    assert audit_actions()[-1] == "kiosk.revoke"
    row = html(client.get("/admin/kiosks")).select_one(f"tr#kiosk-{kiosk.id}")
    assert row["data-state"] == "revoked"


def test_new_enrolment_code_for_an_existing_kiosk(client, admin, make_kiosk):
    kiosk, token = make_kiosk()
    index = client.get("/admin/kiosks")
    action = f"/admin/kiosks/{kiosk.id}/enrolment"
    assert html(index).select_one(f"form[action='{action}']") is not None
    response = client.post(action, data={"csrf_token": csrf_token(index)})
    assert response.status_code == 200
    code = html(response).select_one("#enrol-code").get_text(strip=True)
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).enrol_code_hash == hash_token(code.replace("-", ""))
    # The tablet in use keeps working until the new code is used.
    assert client.get("/api/v1/kiosk/config", headers=bearer(token)).status_code == 200
    assert audit_actions()[-1] == "kiosk.enrolment_code"


def test_unknown_kiosk_is_404(client, admin):
    assert client.get("/admin/kiosks/424242/settings").status_code == 404
    assert client.get("/admin/kiosks/424242/revoke").status_code == 404


def test_settings_form_shows_the_current_values(client, admin, make_kiosk):
    kiosk, _ = make_kiosk(cooldown_seconds=15, criteria=("attitude",))
    page = html(client.get(f"/admin/kiosks/{kiosk.id}/settings"))
    assert page.select_one("#cooldown_seconds")["value"] == "15"
    assert page.select_one("#idle_seconds")["value"] == "30"
    assert page.select_one("#mon-opens")["value"] == "00:00"
    assert [n["value"] for n in page.select("input[name=criteria][checked]")] == ["attitude"]
    assert len(page.select("input[name=criteria]")) == 9
    legends = [n.get_text(strip=True) for n in page.select("fieldset.day legend")]
    assert legends[0] == "Thứ Hai" and legends[6] == "Chủ Nhật"
    for node in page.select("main form input:not([type=hidden])"):
        labelled = node.find_parent("label") or page.select_one(f"label[for='{node['id']}']")
        assert labelled is not None, node["id"]


def test_saving_settings_stores_them_for_the_kiosk(client, admin, make_kiosk):
    kiosk, token = make_kiosk()
    data = settings_data(
        client,
        kiosk,
        cooldown_seconds="5",
        idle_seconds="20",
        **{"sun-open": "y", "sun-opens": "08:00", "sun-closes": "11:30:00", "sat-open": None},
        criteria=["attitude", "total_time"],
    )
    response = client.post(f"/admin/kiosks/{kiosk.id}/settings", data=data)
    assert response.status_code == 302, text_of(response, "main")
    db.session.expire_all()
    settings = KioskSettings.from_json(db.session.get(Kiosk, kiosk.id).settings)
    assert (settings.cooldown_seconds, settings.idle_seconds) == (5, 20)
    assert settings.hours["sun"] == ("08:00", "11:30")
    assert settings.hours["sat"] is None
    assert settings.criteria == ("attitude", "total_time")
    assert audit_actions()[-1] == "kiosk.settings"
    config = client.get("/api/v1/kiosk/config", headers=bearer(token)).json
    assert config["settings"]["hours"][6] == [480, 690]
    assert [c["code"] for c in config["questionnaire"]["criteria"]] == ["attitude", "total_time"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cooldown_seconds": "0"}, "Vui lòng nhập từ 1 đến 600 giây."),
        ({"cooldown_seconds": "mười"}, "Vui lòng nhập số giây là số nguyên."),
        ({"idle_seconds": ""}, "Vui lòng nhập số giây."),
        ({"idle_seconds": "100000"}, "Vui lòng nhập từ 3 đến 600 giây."),
        ({"mon-opens": "17:00", "mon-closes": "08:00"}, "Giờ đóng phải sau giờ mở."),
        ({"mon-closes": ""}, "Vui lòng nhập cả giờ mở và giờ đóng."),
        ({"tue-opens": "25:00"}, "Vui lòng nhập giờ theo dạng 07:30."),
        ({"criteria": ["attitude", "online", "feedback"]}, "Vui lòng chọn tối đa 2 tiêu chí."),
        ({"criteria": ["nonsense"]}, "Lựa chọn này không tồn tại."),
    ],
)
def test_bad_settings_are_400_with_a_message_and_change_nothing(
    client, admin, make_kiosk, change, message
):
    kiosk, _ = make_kiosk(hours=DEFAULT_HOURS)
    before = dict(kiosk.settings)
    data = settings_data(client, kiosk, **change)
    response = client.post(f"/admin/kiosks/{kiosk.id}/settings", data=data)
    assert response.status_code == 400
    assert message in text_of(response, "main form")
    assert html(response).select_one(".error-summary") is not None
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).settings == before
    assert "kiosk.settings" not in audit_actions()
