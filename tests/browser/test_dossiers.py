"""Dossiers in a real browser: the citizen's ticket page before the result is returned, the
agency page's dossier splits, and a follow-up call recorded with the keyboard only.

Set HAILONG_SHOTS=/some/dir to keep screenshots of the three pages."""

from __future__ import annotations

import os
import random
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from survey import demo
from survey.extensions import db
from survey.models import Channel, Desk, Procedure, Ticket
from survey.responses import Submission, record
from survey.tickets.service import TicketRequest, issue, ticket_token
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("HAILONG_SHOTS")


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def site(live_server):
    """Demo data, plus 120 returned dossiers of Sở Tư pháp rated through their tickets."""
    rng = random.Random(15)
    with live_server.app.test_request_context():
        demo.seed(PASSWORD, today=date(2026, 11, 21))
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == "STP-Q1"))
        province = desk.agency.parent
        for code, name, field in [
            ("1.004227", "Cấp bản sao trích lục hộ tịch", "Hộ tịch"),
            ("2.000908", "Chứng thực bản sao từ bản chính", "Chứng thực"),
            ("1.001193", "Đăng ký khai sinh", "Hộ tịch"),
        ]:
            db.session.add(Procedure(province_id=province.id, code=code, name=name, field=field))
        for i in range(120):
            due = date(2026, 7, 10) + timedelta(days=i // 2)
            returned = due + timedelta(days=rng.choice([-2, 0, 0, 1, 5]))
            ticket = Ticket(
                token_hash=uuid.uuid4().hex,
                dossier_code=f"000.00.12.H01-2607{i:02d}",
                desk_id=desk.id,
                procedure=rng.choice(["1.004227", "2.000908", "1.001193"]),
                due_date=due,
                returned_date=returned,
                created_at=datetime(2026, 7, 1),
                expires_at=datetime(2026, 12, 1),
                used_at=datetime.combine(returned, datetime.min.time()) if i % 2 else None,
            )
            db.session.add(ticket)
            db.session.flush()
            if i % 2:
                late = returned > due
                record(
                    Submission(
                        id=uuid.uuid4(),
                        desk=desk,
                        questionnaire=desk.current_questionnaire(),
                        channel=Channel.QR,
                        level=rng.choice(
                            ["khong_hai_long", "hai_long"] if late else ["hai_long", "rat_hai_long"]
                        ),
                        occurred_at=datetime.combine(returned, datetime.min.time())
                        + timedelta(hours=3 + i % 5),
                        ticket_id=ticket.id,
                    )
                )
        waiting, _created = issue(TicketRequest(desk=desk, dossier_code="000.00.12.H01-261121"))
        token = ticket_token(waiting)
        from survey.followup.service import draw

        followup = draw("2026-Q3", 5, agency_code="STP", seed=3, actor="tests")
        db.session.commit()
        return live_server, token, followup.id


def _sign_in(page, url):
    page.goto(f"{url}/auth/login")
    page.get_by_label("Email").fill(demo.ADMIN_EMAIL)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/dashboard")


def test_dossier_pages_in_the_browser(site, page):
    server, token, draw_id = site
    page.goto(f"{server.url}/t/{token}")
    notice = page.locator("#before-return")
    assert notice.is_visible() and "chưa được trả kết quả" in notice.inner_text()
    _shot(page, "ticket-before-return")

    _sign_in(page, server.url)
    page.goto(f"{server.url}/dashboard/agency/STP?period=2026-Q3")
    section = page.locator("#dossiers")
    assert section.is_visible()
    assert page.locator("#by-procedure tbody tr").count() == 3
    assert "Newcombe" in page.locator("#on-time-difference").inner_text()
    section.scroll_into_view_if_needed()
    if SHOTS:
        section.screenshot(path=str(Path(SHOTS) / "agency-dossiers.png"))

    page.goto(f"{server.url}/followup/{draw_id}")
    assert page.locator("#followup-items tbody tr").count() == 5
    page.locator("#followup-items tbody tr a").first.click()
    # Keyboard only: the outcome, then the rating, then send.
    page.get_by_label("Đã trả lời").focus()
    page.keyboard.press("Space")
    page.get_by_label("Rất hài lòng").first.focus()
    page.keyboard.press("Space")
    _shot(page, "followup-item")
    page.get_by_role("button", name="Lưu cuộc gọi").press("Enter")
    page.wait_for_url(f"**/followup/{draw_id}")
    assert "Đã trả lời" in page.locator("#followup-items").inner_text()
    _shot(page, "followup-draw")
