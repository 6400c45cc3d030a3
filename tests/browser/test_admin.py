"""An administrator sets up a desk, prints its poster, and a citizen's rating from the scanned
QR code shows up in the dashboard count."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from survey.extensions import db
from survey.models import Response, Role, User
from survey.periods import local_today
from survey.security import hash_password
from tests.conftest import missing_service

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"


def decode_qr(pdf_path, tmp_path) -> str:
    pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="needs pyzbar and libzbar0")
    from PIL import Image

    if shutil.which("pdftoppm") is None:
        missing_service("pdftoppm (poppler-utils) is needed to read the poster")
    subprocess.run(["pdftoppm", "-r", "100", "-png", pdf_path, tmp_path / "poster"], check=True)
    [page] = sorted(tmp_path.glob("poster-*.png"))
    [code] = pyzbar.decode(Image.open(page))
    return code.data.decode()


def test_admin_prints_a_poster_whose_qr_leads_to_a_counted_rating(live_server, page, tmp_path):
    with live_server.app.app_context():
        db.session.add(
            User(email="admin@example.org", role=Role.ADMIN, password_hash=hash_password(PASSWORD))
        )
        db.session.commit()
    base = live_server.url

    page.goto(f"{base}/auth/login")
    page.fill("#email", "admin@example.org")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda address: "/auth/login" not in address)

    page.goto(f"{base}/admin/agencies/new")
    page.get_by_label("Mã", exact=True).fill("XTB")
    page.get_by_label("Tên", exact=True).fill("Xã Tân Bình")
    page.get_by_label("Cấp", exact=True).select_option("commune")
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_url("**/admin/agencies/*")
    assert page.locator("#agency-code").inner_text() == "XTB"

    page.get_by_role("link", name="Thêm quầy").first.click()
    page.get_by_label("Mã", exact=True).fill("XTB-Q1")
    page.get_by_label("Tên", exact=True).fill("Quầy tiếp nhận số 1")
    page.get_by_role("button", name="Lưu").click()
    row = page.locator("#desks tr[data-code='XTB-Q1']")
    expect(row.locator("button.copy")).to_be_visible()  # admin.js shows the copy button

    with page.expect_download() as download:
        row.locator("a.poster-a4").click()
    pdf = tmp_path / "poster.pdf"
    download.value.save_as(pdf)
    url = decode_qr(pdf, tmp_path)
    assert url == row.locator("input.url").input_value()

    page.goto(url)
    assert "Xã Tân Bình" in page.locator("header").inner_text()
    rating = page.locator("fieldset.rating")
    rating.get_by_role("radio").first.focus()
    page.keyboard.press("ArrowDown")  # from "Rất hài lòng" to "Hài lòng"
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url("**/thanks")

    with live_server.app.app_context():
        stored = db.session.scalar(sa.select(Response))
        assert (stored.level, stored.desk.code) == ("hai_long", "XTB-Q1")
    today = local_today()
    page.goto(f"{base}/dashboard?period={today:%Y-%m}")
    assert page.locator("#agencies tr[data-code='XTB'] td.valid").inner_text() == "1"


def test_importing_the_tree_in_the_browser_shows_progress_then_the_result(
    live_server, page, tmp_path
):
    from tests.survey.admin.files import AGENCY_HEADER, agency_rows, to_csv

    with live_server.app.app_context():
        db.session.add(
            User(email="admin@example.org", role=Role.ADMIN, password_hash=hash_password(PASSWORD))
        )
        db.session.commit()
    page.goto(f"{live_server.url}/auth/login")
    page.fill("#email", "admin@example.org")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda address: "/auth/login" not in address)

    tree = tmp_path / "tree.csv"
    tree.write_bytes(to_csv(AGENCY_HEADER, agency_rows(300)))
    page.goto(f"{live_server.url}/admin/imports/agencies")
    page.set_input_files("#file", str(tree))
    page.evaluate("window.samePage = true")  # survives XMLHttpRequest, not a navigation
    page.evaluate(  # what the progress bar shows, as it changes
        """() => {
            window.bars = [];
            const bar = document.querySelector("#upload-progress");
            const label = document.querySelector("label[for=upload-progress]");
            new MutationObserver(() => window.bars.push([bar.value, bar.max, label.textContent]))
                .observe(bar, {attributes: true});
        }"""
    )
    page.get_by_role("button", name="Kiểm tra và nhập").click()
    # admin.js sent the form with XMLHttpRequest and put the result page in place.
    result = page.locator("#import-result")
    result.wait_for()
    assert page.locator("#rows-created").inner_text() == "300"
    assert page.evaluate("window.samePage === true")
    # First the upload in percent, then the import's own progress: bytes of the file read.
    bars = page.evaluate("window.bars")
    assert [100, 100, "Tải lên"] in bars, bars
    size = tree.stat().st_size
    assert [size, size, "Nhập"] in bars, bars  # then the import's, relabelled
    with live_server.app.app_context():
        from survey.models import Agency

        assert db.session.scalar(sa.select(sa.func.count()).select_from(Agency)) == 300


def test_the_admin_header_is_one_line_at_1440_px_with_the_sections_in_a_menu(live_server, page):
    # Issue 17, point 13: "Bảng điều khiển" once, and the links grouped so they fit one line.
    with live_server.app.app_context():
        db.session.add(
            User(email="admin@example.org", role=Role.ADMIN, password_hash=hash_password(PASSWORD))
        )
        db.session.commit()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/auth/login")
    page.fill("#email", "admin@example.org")
    page.fill("#password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(lambda address: "/auth/login" not in address)
    page.goto(f"{live_server.url}/admin/users")
    header = page.locator("header.top")
    assert header.get_by_text("Bảng điều khiển", exact=True).count() == 1
    tops = header.locator("nav > a, nav > details > summary, nav > form, nav > span").evaluate_all(
        "items => items.map(i => { const r = i.getBoundingClientRect();"
        " return Math.round(r.top + r.height / 2); })"
    )
    # Every item's middle on the same line (items differ in height, not in line).
    assert len(tops) >= 6 and max(tops) - min(tops) <= 6, tops
    menu = header.locator("details#admin-menu")
    assert menu.locator("a[href='/admin/agencies']").is_hidden()
    menu.locator("summary").click()
    assert menu.locator("a[href='/admin/agencies']").is_visible()
    expect(menu.locator("a[aria-current=page]")).to_have_text("Người dùng")
    assert menu.locator("li a").count() >= 8
    page.screenshot(path="/tmp/t17/admin-nav.png")
