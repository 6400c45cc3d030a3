"""A kiosk tablet in a real browser: enrolment, offline queueing through a reload, sync,
idempotent replay, the cooldown lock and the idle reset."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.kiosk import enrolment
from survey.kiosk_settings import WEEKDAYS, KioskSettings
from survey.models import Agency, Desk, Kiosk, Level, Response, Role, User
from survey.security import hash_password

PASSWORD = "correct horse battery staple"
ALWAYS_OPEN = {day: ("00:00", "23:59") for day in WEEKDAYS}
SYNC_TIMEOUT = 30_000

READ_QUEUE = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('hailong-kiosk', 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction('queue').objectStore('queue').getAll();
    request.onsuccess = () => { open.result.close(); resolve(request.result); };
  };
})"""

PUT_IN_QUEUE = """(items) => new Promise((resolve, reject) => {
  const open = indexedDB.open('hailong-kiosk', 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const tx = open.result.transaction('queue', 'readwrite');
    items.forEach((item, i) => tx.objectStore('queue').put({...item, created: Date.now() + i}));
    tx.oncomplete = () => { open.result.close(); resolve(items.length); };
    tx.onerror = () => reject(tx.error);
  };
})"""


@pytest.fixture
def desk_id(live_server) -> int:
    with live_server.app.app_context():
        agency = Agency(code="PHT", name="Phường Hòa Thuận", level=Level.COMMUNE)
        desk = Desk(agency=agency, code="PHT-Q1", name="Quầy tiếp nhận số 1")
        admin = User(
            email="admin@example.org", role=Role.ADMIN, password_hash=hash_password(PASSWORD)
        )
        db.session.add_all([agency, desk, admin])
        db.session.commit()
        return desk.id


def set_settings(live_server, kiosk_id: int, **settings) -> None:
    with live_server.app.app_context():
        kiosk = db.session.get(Kiosk, kiosk_id)
        kiosk.settings = KioskSettings(**{"hours": ALWAYS_OPEN, **settings}).to_json()
        db.session.commit()


def new_kiosk_code(live_server, desk_id: int, **settings) -> str:
    """A kiosk waiting for enrolment, made directly in the database; returns its code."""
    with live_server.app.app_context():
        kiosk = Kiosk(desk_id=desk_id, name="Máy sảnh chờ", settings={})
        db.session.add(kiosk)
        db.session.flush()
        code = enrolment.start(kiosk)
        db.session.commit()
        kiosk_id = kiosk.id
    set_settings(live_server, kiosk_id, **settings)
    return code


def enrol_with(page, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="Đăng ký máy tính bảng này").click()
    page.wait_for_url("**/kiosk")
    page.locator("#s-rate").wait_for()
    # The service worker has stored the shell: from now on the kiosk starts without network.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def rows(live_server) -> list[Response]:
    with live_server.app.app_context():
        found = list(db.session.scalars(sa.select(Response)))
        db.session.expunge_all()
        return found


def queue_length(page) -> int:
    return int(page.locator("#staff").get_attribute("data-queue"))


def tap(page, level_index: int) -> None:
    """One citizen: touch a face, see thanks, and wait until the kiosk is ready again."""
    page.locator("#levels .level").nth(level_index).click()
    page.locator("#s-thanks").wait_for()
    page.locator("#s-rate").wait_for()


def wait_until_sent(page) -> None:
    # A selector, not wait_for_function: the page's CSP forbids the eval that it needs.
    page.locator("#staff[data-queue='0']").wait_for(state="attached", timeout=SYNC_TIMEOUT)


OFFLINE_TAPS = 8


def test_admin_enrols_a_kiosk_that_keeps_every_rating_offline_and_counts_each_once(
    live_server, context, page, desk_id
):
    # The administrator creates the kiosk and gets its one-time code.
    page.goto(f"{live_server.url}/auth/login")
    page.locator("#email").fill("admin@example.org")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.goto(f"{live_server.url}/admin/kiosks/new")
    page.locator("#desk").select_option(str(desk_id))
    page.locator("#name").fill("Máy sảnh chờ")
    page.locator("main form button[type=submit]").click()
    link = page.locator("#enrol-link").get_attribute("href")
    assert page.locator("figure.qr-code svg").count() == 1
    with live_server.app.app_context():
        kiosk_id = db.session.scalar(sa.select(Kiosk.id))
    set_settings(live_server, kiosk_id, cooldown_seconds=1)

    sent: dict[str, dict] = {}
    page.on(
        "request",
        lambda r: r.url.endswith("/api/v1/responses")
        and sent.setdefault(r.post_data_json["id"], r.post_data_json),
    )
    enrol_with(page, link)
    assert page.locator("#s-rate h1 .t[lang=vi]").inner_text().startswith("Ông/Bà có hài lòng")
    assert page.locator("#levels .level").count() == 3

    for i in range(5):
        tap(page, i % 3)
    wait_until_sent(page)
    assert len(rows(live_server)) == 5

    # Eight ratings offline (each tap waits out the 1 s cooldown): more than one of each face,
    # all queued on the device.
    context.set_offline(True)
    for i in range(OFFLINE_TAPS):
        tap(page, i % 3)
    assert queue_length(page) == OFFLINE_TAPS
    assert len(rows(live_server)) == 5

    # Still offline: the service worker serves the shell, and the config is kept on the device.
    assert page.reload().from_service_worker
    page.locator("#s-rate").wait_for()
    assert page.locator("#levels .level").count() == 3
    for i in range(5):
        tap(page, (i + 1) % 3)
    assert queue_length(page) == OFFLINE_TAPS + 5
    queued = page.evaluate(READ_QUEUE)
    assert len({item["id"] for item in queued}) == OFFLINE_TAPS + 5

    context.set_offline(False)
    wait_until_sent(page)
    stored = rows(live_server)
    assert len(stored) == 5 + OFFLINE_TAPS + 5
    assert {str(r.id) for r in stored} == set(sent)
    for row in stored:
        tapped = datetime.fromisoformat(sent[str(row.id)]["client_time"])
        assert row.client_time == row.occurred_at == tapped.astimezone(UTC).replace(tzinfo=None)
        assert (row.channel, row.kiosk_id, row.desk_id) == ("kiosk", kiosk_id, desk_id)
    offline_ids = {item["id"] for item in queued}
    # The offline ratings keep the time of the tap, not of the sync.
    assert all(r.received_at > r.occurred_at for r in stored if str(r.id) in offline_ids)

    # Replay the whole queue, as if every acknowledgement had been lost: still as many rows.
    statuses: list[int] = []
    page.on(
        "response",
        lambda r: r.url.endswith("/api/v1/responses") and statuses.append(r.status),
    )
    page.evaluate(PUT_IN_QUEUE, list(sent.values()))
    page.reload()  # the kiosk syncs on every page load
    wait_until_sent(page)
    assert statuses == [200] * len(stored)
    assert len(rows(live_server)) == len(stored)

    with live_server.app.app_context():
        kiosk = db.session.get(Kiosk, kiosk_id)
        assert kiosk.last_seen_at is not None
        assert kiosk.app_version == page.locator("html").get_attribute("data-version")


def test_cooldown_blocks_a_second_tap_and_idle_timeout_drops_partial_answers(
    live_server, page, desk_id
):
    code = new_kiosk_code(
        live_server, desk_id, cooldown_seconds=10, idle_seconds=3, criteria=("attitude",)
    )
    enrol_with(page, f"{live_server.url}/kiosk/enrol/{code}")
    faces = page.locator("#levels .level")

    # A face, then nothing: after the idle timeout the partial answer is gone.
    page.locator("#lang-en").click()
    assert page.locator("html").get_attribute("lang") == "en"
    faces.nth(2).click()
    page.locator("#s-criterion").wait_for()
    assert page.locator("#criterion .t[lang=en]").inner_text() == "Attitude of the civil servants"
    page.locator("#s-rate").wait_for()
    assert page.locator("html").get_attribute("lang") == "vi"
    assert queue_length(page) == 0

    # A full rating, then a second tap at once, within the 10 s lock: it does nothing.
    box = faces.nth(0).bounding_box()
    faces.nth(0).click()
    page.locator("#criterion-levels .level").nth(1).click()
    page.locator("#s-thanks").wait_for()
    assert not faces.nth(0).is_visible()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.locator("#s-thanks").is_visible()
    assert page.locator("#s-criterion").is_hidden()
    wait_until_sent(page)
    with live_server.app.app_context():
        stored = db.session.scalars(sa.select(Response)).all()
        assert [(r.level, [(a.criterion, a.level) for a in r.answers]) for r in stored] == [
            ("rat_hai_long", [("attitude", "hai_long")])
        ]

    # After the lock the kiosk is ready, showing nothing of the last choice.
    page.locator("#s-rate").wait_for(timeout=20_000)
    assert page.evaluate("document.activeElement === document.body")
    faces.nth(1).click()
    page.locator("#skip").click()
    page.locator("#s-thanks").wait_for()
    wait_until_sent(page)
    assert sorted(r.level for r in rows(live_server)) == ["hai_long", "rat_hai_long"]


def test_refused_rating_is_dropped_and_reported_without_blocking_the_queue(
    live_server, page, desk_id
):
    code = new_kiosk_code(live_server, desk_id)
    enrol_with(page, f"{live_server.url}/kiosk/enrol/{code}")
    # A tablet whose clock was 40 days behind, then a fine rating; the server is busy once.
    stale, good = str(uuid.uuid4()), str(uuid.uuid4())
    busy = {"left": 1}

    def once_unavailable(route):
        if busy["left"]:
            busy["left"] -= 1
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    page.route("**/api/v1/responses", once_unavailable)
    item = {"desk": "PHT-Q1", "level": "hai_long", "answers": {}}
    page.evaluate(
        PUT_IN_QUEUE,
        [
            {**item, "id": stale, "client_time": "2020-01-01T09:00:00.000+07:00"},
            {**item, "id": good, "client_time": datetime.now(UTC).isoformat()},
        ],
    )
    page.reload()
    wait_until_sent(page)
    assert busy["left"] == 0  # the 503 was retried, not dropped
    assert [str(r.id) for r in rows(live_server)] == [good]
    assert page.locator("#st-rejected").inner_text() == "1"
    assert page.locator("#st-reason").inner_text().startswith("422")


def test_revoked_kiosk_says_it_is_not_enrolled(live_server, page, desk_id):
    code = new_kiosk_code(live_server, desk_id)
    enrol_with(page, f"{live_server.url}/kiosk/enrol/{code}")
    with live_server.app.app_context():
        enrolment.revoke(db.session.scalar(sa.select(Kiosk)))
        db.session.commit()
    page.reload()
    page.locator("#s-enrol").wait_for()
    assert page.locator("#s-enrol h1 .t[lang=vi]").inner_text() == "Thiết bị này chưa được đăng ký"
    assert page.evaluate("localStorage.getItem('hailong.kiosk.token')") is None


def test_outside_opening_hours_the_kiosk_is_closed_and_records_nothing(live_server, page, desk_id):
    code = new_kiosk_code(live_server, desk_id, hours={day: None for day in WEEKDAYS})
    page.goto(f"{live_server.url}/kiosk/enrol/{code}")
    page.get_by_role("button", name="Đăng ký máy tính bảng này").click()
    page.locator("#s-closed").wait_for()
    assert page.locator("#hours li").count() == 7
    assert page.locator("#hours li").first.inner_text().startswith("Thứ Hai")
    assert not page.locator("#levels .level").first.is_visible()
    assert queue_length(page) == 0 and rows(live_server) == []


def test_staff_see_the_queue_after_a_long_press_on_the_corner(live_server, context, page, desk_id):
    code = new_kiosk_code(live_server, desk_id, cooldown_seconds=1)
    enrol_with(page, f"{live_server.url}/kiosk/enrol/{code}")
    context.set_offline(True)
    tap(page, 0)
    tap(page, 1)
    assert page.locator("#staff").is_hidden()
    page.locator("#corner").hover()
    page.mouse.down()
    page.locator("#staff").wait_for()
    page.mouse.up()
    assert page.locator("#st-queue").inner_text() == "2"
    context.set_offline(False)
    wait_until_sent(page)
    assert page.locator("#st-queue").inner_text() == "0"
    # The time of the last send on the 24-hour clock, as Vietnamese screens write it.
    assert re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", page.locator("#st-sent").inner_text())
    assert len({str(r.id) for r in rows(live_server)}) == 2
    assert all(uuid.UUID(str(r.id)).version == 4 for r in rows(live_server))
