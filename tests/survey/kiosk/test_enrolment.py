"""Enrolling a tablet: a one-time code (a QR link or typed) becomes a hashed device token."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.kiosk import enrolment
from survey.models import AuditLog, Kiosk
from survey.security import hash_token
from tests.conftest import csrf_token, form_fields, html, text_of
from tests.survey.kiosk.conftest import bearer


def enrol_by_link(client, code):
    page = client.get(f"/kiosk/enrol/{code}")
    assert page.status_code == 200
    return client.post("/kiosk/enrol", data=form_fields(page))


def token_from(response) -> str:
    return html(response).select_one("#enrolled")["data-token"]


def test_link_shows_which_desk_the_tablet_will_rate_before_using_the_code(client, make_kiosk):
    kiosk, code = make_kiosk(enrolled=False)
    page = client.get(f"/kiosk/enrol/{code}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    facts = [node.get_text(strip=True) for node in html(page).select("dl.facts dd")]
    assert facts == [kiosk.desk.agency.name, kiosk.desk.name, kiosk.name]
    assert form_fields(page)["code"] == code
    # Only confirming spends the code.
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).token_hash is None


def test_confirming_stores_a_hashed_token_that_the_page_hands_to_the_tablet(client, make_kiosk):
    kiosk, code = make_kiosk(enrolled=False)
    response = enrol_by_link(client, code)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = html(response)
    assert page.select_one("#enrolled")["data-next"] == "/kiosk"
    assert page.select_one("script[src]")["src"].startswith("/static/js/kiosk.js")
    token = token_from(response)
    assert token.startswith("hk_") and len(token) > 40
    db.session.expire_all()
    stored = db.session.get(Kiosk, kiosk.id)
    assert stored.token_hash == hash_token(token) and token not in (stored.token_hash or "")
    assert stored.enrol_code_hash is None and stored.enrolled_at is not None
    assert client.get("/api/v1/kiosk/config", headers=bearer(token)).status_code == 200
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "kiosk.enrol"))
    assert entry.target == f"kiosk:{kiosk.id}"


def test_a_code_works_only_once(client, make_kiosk):
    _, code = make_kiosk(enrolled=False)
    enrol_by_link(client, code)
    assert client.get(f"/kiosk/enrol/{code}").status_code == 404
    again = client.post(
        "/kiosk/enrol", data={"code": code, "csrf_token": csrf_token(client.get("/kiosk/enrol"))}
    )
    assert again.status_code == 400
    assert "Mã đăng ký không hợp lệ hoặc đã hết hạn" in text_of(again, ".errors")


def test_expired_code_gets_a_friendly_404(client, make_kiosk):
    kiosk, code = make_kiosk(enrolled=False)
    kiosk.enrol_expires_at -= enrolment.VALID_FOR + timedelta(minutes=1)
    db.session.commit()
    response = client.get(f"/kiosk/enrol/{code}")
    assert response.status_code == 404
    assert "Mã đăng ký không hợp lệ hoặc đã hết hạn" in text_of(response, "main")


@pytest.mark.parametrize(
    "mangle", [str.lower, lambda c: c.replace("-", " "), lambda c: c.replace("-", "")]
)
def test_typed_code_may_be_lowercase_spaced_or_without_dashes(client, make_kiosk, mangle):
    kiosk, code = make_kiosk(enrolled=False)
    token = csrf_token(client.get("/kiosk/enrol"))
    response = client.post("/kiosk/enrol", data={"code": mangle(code), "csrf_token": token})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).token_hash == hash_token(token_from(response))


def test_lookalike_letters_are_read_as_digits():
    assert enrolment.normalise("oIl0-0000-0000-0000") == "0110000000000000"
    assert enrolment.normalise("ABCD-EFGH-JKMN-PQR") is None  # 15 characters
    assert enrolment.normalise("ABCD-EFGH-JKMN-PQRU") is None  # U is not in the alphabet


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Vui lòng nhập mã đăng ký."),
        ("x" * 41, "Mã đăng ký gồm 16 chữ cái và chữ số."),
        ("NOT-A-CODE", "Mã đăng ký không hợp lệ hoặc đã hết hạn"),
        ("🙂" * 16, "Mã đăng ký không hợp lệ hoặc đã hết hạn"),
    ],
)
def test_bad_typed_code_is_400_with_a_message_and_changes_nothing(
    client, make_kiosk, code, message
):
    kiosk, _ = make_kiosk(enrolled=False)
    token = csrf_token(client.get("/kiosk/enrol"))
    response = client.post("/kiosk/enrol", data={"code": code, "csrf_token": token})
    assert response.status_code == 400
    assert message in text_of(response, ".errors")
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).token_hash is None


def test_enrolment_without_csrf_token_is_refused(client, make_kiosk):
    kiosk, code = make_kiosk(enrolled=False)
    response = client.post("/kiosk/enrol", data={"code": code})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).token_hash is None


def test_new_code_moves_the_kiosk_to_a_new_tablet_and_the_old_token_stops(client, make_kiosk):
    kiosk, old_token = make_kiosk()
    code = enrolment.start(kiosk)
    db.session.commit()
    new_token = token_from(enrol_by_link(client, code))
    assert client.get("/api/v1/kiosk/config", headers=bearer(old_token)).status_code == 401
    assert client.get("/api/v1/kiosk/config", headers=bearer(new_token)).status_code == 200


def test_revoked_kiosk_can_be_enrolled_again_with_a_new_code(client, make_kiosk):
    kiosk, _ = make_kiosk()
    enrolment.revoke(kiosk)
    db.session.commit()
    assert enrolment.state(kiosk) == "revoked"
    code = enrolment.start(kiosk)
    db.session.commit()
    assert enrolment.state(kiosk) == "waiting"
    token = token_from(enrol_by_link(client, code))
    db.session.expire_all()
    kiosk = db.session.get(Kiosk, kiosk.id)
    assert kiosk.revoked_at is None and enrolment.state(kiosk) == "enrolled"
    assert client.get("/api/v1/kiosk/config", headers=bearer(token)).status_code == 200


def test_redeeming_twice_in_one_race_gives_one_token(app, make_kiosk):
    kiosk, code = make_kiosk(enrolled=False)
    first = enrolment.redeem(code)
    db.session.commit()
    assert first is not None
    # A second request that read the kiosk before the first committed updates no row.
    kiosk.enrol_code_hash = hash_token(enrolment.normalise(code))
    kiosk.enrol_expires_at = enrolment.utcnow() + timedelta(hours=1)
    db.session.expire_all()
    assert enrolment.redeem(code) is None
