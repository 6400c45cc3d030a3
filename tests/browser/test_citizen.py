"""A citizen rates a desk in a real browser, with the keyboard and without JavaScript."""

from __future__ import annotations

import sqlalchemy as sa

from survey.extensions import db
from survey.integrity import REPEAT_BROWSER
from survey.models import Agency, Desk, Level, Response, Status
from survey.tokens import desk_token


def _desk_url(live_server) -> str:
    with live_server.app.app_context():
        agency = Agency(code="PHT", name="Phường Hòa Thuận", level=Level.COMMUNE)
        desk = Desk(agency=agency, code="PHT-Q1", name="Quầy tiếp nhận số 1")
        db.session.add_all([agency, desk])
        db.session.commit()
        return f"{live_server.url}/s/{desk_token(desk.id)}"


def _rows(live_server) -> list[Response]:
    with live_server.app.app_context():
        return list(db.session.scalars(sa.select(Response)))


def test_citizen_rates_with_the_keyboard_and_sees_thanks(live_server, page):
    page.goto(_desk_url(live_server))
    assert page.locator("html").get_attribute("lang") == "vi"
    rating = page.locator("fieldset.rating")
    rating.get_by_role("radio").first.focus()
    page.keyboard.press("ArrowDown")  # from "Rất hài lòng" to "Hài lòng"
    assert rating.locator("input:checked").get_attribute("value") == "hai_long"
    page.get_by_label("Góp ý (không bắt buộc)").fill("Cán bộ tận tình, chu đáo")
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url("**/thanks")
    assert page.get_by_role("heading").inner_text() == "Cảm ơn Ông/Bà đã đánh giá"
    rows = _rows(live_server)
    assert [(r.level, r.comment) for r in rows] == [("hai_long", "Cán bộ tận tình, chu đáo")]


def test_back_and_resubmit_stores_one_row(live_server, page):
    page.goto(_desk_url(live_server))
    page.locator("fieldset.rating").get_by_text("Rất hài lòng").click()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url("**/thanks")
    page.go_back()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_load_state()
    assert len(_rows(live_server)) == 1


def test_a_second_person_on_the_same_phone_is_flagged_not_refused(live_server, page):
    url = _desk_url(live_server)
    page.goto(url)
    page.locator("fieldset.rating").get_by_text("Rất hài lòng").click()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url("**/thanks")
    # The next person: a fresh, empty form from the thank-you page.
    page.get_by_role("link", name="Đánh giá cho người khác?").click()
    page.wait_for_url(lambda address: "?new=" in address)
    assert page.locator("fieldset.rating input:checked").count() == 0
    page.locator("fieldset.rating").get_by_text("Không hài lòng").click()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url("**/thanks")
    assert page.get_by_role("heading", level=1).inner_text() == "Cảm ơn Ông/Bà đã đánh giá"
    # Back, then Send again: still the same two ratings.
    page.go_back()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url("**/thanks")
    # A third person scans the QR code again within the half hour, with other answers:
    # thanked and stored, not turned away.
    page.goto(url)
    page.locator("fieldset.rating").get_by_text("Hài lòng", exact=True).click()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url("**/thanks")
    rows = sorted(_rows(live_server), key=lambda r: r.received_at)
    assert [(r.level, r.status, r.status_reason) for r in rows] == [
        ("rat_hai_long", Status.VALID, None),
        ("khong_hai_long", Status.FLAGGED, REPEAT_BROWSER),
        ("hai_long", Status.FLAGGED, REPEAT_BROWSER),
    ]


def test_survey_works_with_javascript_turned_off(live_server, chromium):
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(_desk_url(live_server))
        page.locator("fieldset.rating").get_by_text("Không hài lòng").click()
        page.get_by_text("Đánh giá chi tiết hơn (không bắt buộc)").click()
        page.get_by_role("group", name="Thái độ của công chức").get_by_text(
            "Hài lòng", exact=True
        ).click()
        page.get_by_role("button", name="Gửi đánh giá").click()
        page.wait_for_url("**/thanks")
    finally:
        context.close()
    with live_server.app.app_context():
        rows = list(db.session.scalars(sa.select(Response)))
        assert len(rows) == 1 and rows[0].satisfied is False
        assert {a.criterion: a.level for a in rows[0].answers} == {"attitude": "hai_long"}


def test_touch_targets_are_at_least_44_pixels_high(live_server, page):
    page.set_viewport_size({"width": 360, "height": 740})  # a cheap phone
    page.goto(_desk_url(live_server))
    heights = page.locator("fieldset.rating label.choice").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().height)"
    )
    assert len(heights) == 3 and min(heights) >= 44
    button = page.get_by_role("button", name="Gửi đánh giá").bounding_box()
    assert button["height"] >= 44


def test_faces_are_drawn_and_seen_without_an_emoji_font(live_server, page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(_desk_url(live_server))
    faces = page.locator("fieldset.rating label.choice svg.face")
    assert faces.count() == 3
    sizes = faces.evaluate_all(
        "nodes => nodes.map(n => [n.getBoundingClientRect().width, n.getBoundingClientRect().height])"
    )
    assert all(w >= 32 and h >= 32 for w, h in sizes)
    # Green for the happiest, red for the unhappiest: the colour says it too.
    fills = faces.evaluate_all(
        "nodes => nodes.map(n => getComputedStyle(n.querySelector('circle')).fill)"
    )
    assert fills[0] != fills[-1]
    page.locator("fieldset.rating").get_by_text("Hài lòng", exact=True).click()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url("**/thanks")
    mark = page.locator(".thanks svg")
    assert mark.bounding_box()["width"] >= 48
