"""An analyst, in a real browser: sign in, read the quarter, open an agency, download the
reports and check what is inside them."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from survey import demo
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
QUARTER = "2026-Q3"


@pytest.fixture
def demo_server(live_server):
    with live_server.app.app_context():
        demo.seed(PASSWORD, today=date(2026, 11, 21))
    return live_server


def _percent(text: str) -> float:
    return float(text.strip().rstrip("%").replace(".", "").replace(",", "."))


def _download(page, name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=name, exact=True).click()
    return Path(info.value.path()).read_bytes()


def test_analyst_reads_the_quarter_and_downloads_the_reports(demo_server, page, tmp_path):
    page.goto(f"{demo_server.url}/auth/login")
    page.get_by_label("Email").fill(demo.ANALYST_EMAIL)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/dashboard")

    page.get_by_label("Kỳ báo cáo").fill(QUARTER)
    with page.expect_navigation():
        page.get_by_role("button", name="Xem").click()
    assert f"period={QUARTER}" in page.url
    rows = page.locator("#agencies tbody tr")
    verdicts = set(rows.evaluate_all("rows => rows.map(r => r.dataset.verdict)"))
    assert {"meets", "below", "inconclusive"} <= verdicts
    shown = {
        code: _percent(rate)
        for code, rate in rows.evaluate_all(
            "rows => rows.map(r => [r.dataset.code, r.querySelector('.rate').textContent])"
        )
    }

    csv_body = _download(page, "CSV")
    table = list(csv.reader(io.StringIO(csv_body.decode("utf-8-sig"))))
    rate = table[0].index("Tỷ lệ")
    assert {row[0]: round(float(row[rate]) * 100, 1) for row in table[1:]} == shown

    sheet = load_workbook(io.BytesIO(_download(page, "Excel"))).worksheets[0]
    header = [c.value for c in sheet[1]]
    xlsx = {
        r[0]: round(r[header.index("Tỷ lệ")] * 100, 1)
        for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert xlsx == shown

    pdf = _download(page, "Báo cáo PDF")
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdfinfo"):
        info = subprocess.run(
            ["pdfinfo", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        pages = int(
            next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1]
        )
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        flat = " ".join(text.split())
        if shutil.which("soffice"):
            # The official document (docs/reporting.md), the same as the Word file.
            assert pages >= 5
            assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat and "quý 3/2026" in flat
            assert "Sở Y tế" in flat and "Nơi nhận:" in flat
        else:
            pairs = rows.evaluate_all("rows => rows.map(r => [r.dataset.code, r.dataset.verdict])")
            below = [code for code, verdict in pairs if verdict == "below" and code != "DEMO"]
            # title, summary, one table page, funnel, forest, a page per agency below, methods
            assert below and pages == 2 + 1 + 2 + len(below) + 1
            assert "Tỉnh Hài Long (dữ liệu mẫu)" in text and "Quý 3/2026" in text

    word = _download(page, "Báo cáo chính thức (Word)")
    assert word.startswith(b"PK")  # a DOCX is a zip

    with page.expect_navigation():
        page.get_by_role("link", name="Sở Y tế", exact=True).click()
    assert "/dashboard/agency/SYT" in page.url
    assert page.locator("h1").inner_text() == "Sở Y tế"
    assert page.locator("#criteria tbody tr").count() == 9
    trend = page.locator("img[src*='trend.png']")
    trend.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const img = document.querySelector(\"img[src*='trend.png']\");"
        " return img.complete && img.naturalWidth > 0; }"
    )
    assert trend.evaluate("img => img.naturalWidth") > 300
