"""End to end in Chromium: a dissatisfied rating with a comment on a ticket opens a case, a staff
member of the agency assigns and answers it, and the citizen reads the answer on the same
ticket link; the case counts in the report."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from survey import periods
from survey.extensions import db
from survey.models import Agency, Desk, Level, Role, User
from survey.security import hash_password
from survey.tickets.service import TicketRequest, issue, ticket_url
from tests.conftest import PASSWORD

COMMENT = "Hẹn trả hồ sơ 3 lần vẫn chưa có kết quả"
REPLY = "Kính gửi Ông/Bà,\nhồ sơ của Ông/Bà đã có kết quả; chúng tôi xin lỗi vì sự chậm trễ."


def _setup(live_server) -> tuple[str, str]:
    with live_server.app.app_context():
        agency = Agency(code="PHT", name="Phường Hòa Thuận", level=Level.COMMUNE)
        desk = Desk(agency=agency, code="PHT-Q1", name="Quầy tiếp nhận số 1")
        staff = User(
            email="lan@pht.example.gov.vn",
            name="Trần Thị Lan",
            role=Role.ANALYST,
            agency=agency,
            password_hash=hash_password(PASSWORD),
        )
        db.session.add_all([agency, desk, staff])
        db.session.commit()
        ticket, _ = issue(TicketRequest(desk=desk, dossier_code="H01.26-000123"))
        with live_server.app.test_request_context(base_url=live_server.url):
            return ticket_url(ticket), staff.email


def test_a_complaint_on_a_ticket_is_answered_and_the_citizen_reads_the_answer(
    live_server, context, chromium
):
    link, staff_email = _setup(live_server)

    citizen = context.new_page()
    citizen.goto(link)
    citizen.locator("fieldset.rating").get_by_text("Không hài lòng").click()
    citizen.get_by_label("Góp ý (không bắt buộc)").fill(COMMENT)
    citizen.get_by_role("button", name="Gửi đánh giá").click()
    citizen.wait_for_url("**/thanks")
    code = citizen.locator("#case-code").inner_text()
    assert len(code) == 11 and code[5] == "-"
    assert citizen.locator("#case-link").get_attribute("href") == link

    staff_context = chromium.new_context(locale="vi-VN")
    try:
        staff = staff_context.new_page()
        staff.set_default_timeout(15_000)
        staff.goto(f"{live_server.url}/auth/login")
        staff.get_by_label("Email").fill(staff_email)
        staff.get_by_label("Mật khẩu").fill(PASSWORD)
        staff.get_by_role("button", name="Đăng nhập").click()
        staff.wait_for_url("**/dashboard")
        staff.locator("nav a.nav-cases").click()
        staff.get_by_role("link", name=code).click()
        assert staff.locator("#case-comment").inner_text() == COMMENT
        staff.get_by_label("Giao cho").select_option(label=f"Trần Thị Lan ({staff_email})")
        staff.get_by_role("button", name="Giao xử lý").click()
        assert staff.locator("#case-assignee").inner_text() == "Trần Thị Lan"
        staff.get_by_label("Trả lời người dân").fill(REPLY)
        staff.get_by_label(
            "Công khai: hiển thị câu trả lời trên trang phản ánh của người dân"
        ).check()
        staff.get_by_role("button", name="Lưu câu trả lời").click()
        assert "công khai" in staff.locator(".flash-success").inner_text()

        # The case counts in the report: the agency's page for this quarter, and its CSV.
        quarter = periods.quarter_of(periods.local_today()).key
        staff.goto(f"{live_server.url}/dashboard/agency/PHT?period={quarter}")
        card = staff.locator(".cases-card")
        assert card.locator(".value").inner_text() == "1"
        assert "đã trả lời: 100,0%" in card.inner_text()
        with staff.expect_download() as download:
            staff.goto(f"{live_server.url}/dashboard")
            staff.get_by_label("Kỳ báo cáo").fill(quarter)
            with staff.expect_navigation():
                staff.get_by_role("button", name="Xem").click()
            staff.get_by_role("link", name="CSV", exact=True).click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
        pht = next(row for row in rows if row["Mã"] == "PHT")
        assert pht["Phản ánh tiếp nhận"] == "1"
        assert pht["Tỷ lệ phản ánh đã trả lời"] != ""
    finally:
        staff_context.close()

    citizen.goto(link)
    assert citizen.locator("#case-heading").inner_text().endswith(code)
    assert citizen.locator("#case-reply").inner_text() == REPLY
