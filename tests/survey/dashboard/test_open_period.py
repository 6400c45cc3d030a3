"""A period that has not ended says so, with the dates its data cover; a
wrong period on the agency page or a download is shown in the form, not on a bare 400 page."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.conftest import html, text_of
from tests.survey.dashboard.conftest import QUARTER

# The demo's "today" is 21/11/2026 (conftest.DEMO_TODAY): the fourth quarter has not ended.
OPEN = "2026-Q4"
NOTE = (
    "Kỳ chưa kết thúc: số liệu từ 01/10/2026 đến 21/11/2026, 52 trên 92 ngày của kỳ. "
    "So sánh với kỳ trước, một kỳ trọn vẹn, là chưa tương đương."
)


def test_the_dashboard_says_when_the_period_has_not_ended(signed_in):
    assert text_of(signed_in.get(f"/dashboard?period={OPEN}"), "#period-open") == NOTE
    assert html(signed_in.get(f"/dashboard?period={QUARTER}")).select("#period-open") == []


def test_the_agency_page_says_when_the_period_has_not_ended(signed_in):
    assert text_of(signed_in.get(f"/dashboard/agency/SYT?period={OPEN}"), "#period-open") == NOTE
    page = html(signed_in.get(f"/dashboard/agency/SYT?period={QUARTER}"))
    assert page.select("#period-open") == []


def test_the_excel_export_says_when_the_period_has_not_ended(signed_in):
    def parameters(period: str) -> dict:
        response = signed_in.get(f"/dashboard/export.xlsx?period={period}")
        sheet = load_workbook(io.BytesIO(response.data))["Phương pháp"]
        return {row[0].value: row[1].value for row in sheet.iter_rows() if row[0].value}

    assert parameters(OPEN)["Kỳ chưa kết thúc"] == NOTE
    assert "Kỳ chưa kết thúc" not in parameters(QUARTER)


def test_a_wrong_period_on_the_agency_page_is_shown_in_its_form(signed_in):
    response = signed_in.get("/dashboard/agency/SYT?period=2026-Q5")
    assert response.status_code == 400
    page = html(response)
    field = page.select_one("form.filters [name=period]")
    assert field["aria-invalid"] == "true" and field["value"] == "2026-Q5"
    assert "Kỳ báo cáo 2026-Q5 không hợp lệ" in page.select_one("#period-error").get_text()
    assert page.select_one("h1").get_text(strip=True)  # the rest of the page is there


def test_a_download_with_a_wrong_period_leads_to_the_form_with_the_message(signed_in):
    response = signed_in.get("/dashboard/export.csv?period=2026-Q5&verdict=below")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/dashboard?")
    shown = signed_in.get(response.headers["Location"])
    assert shown.status_code == 400
    assert "Kỳ báo cáo 2026-Q5 không hợp lệ" in text_of(shown, "#period-error")
