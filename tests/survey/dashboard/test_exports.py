"""Province charts and exports: CSV with BOM, Excel, PDF, JSON, all audited."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from survey.extensions import db
from survey.models import AuditLog
from tests.conftest import html
from tests.survey.dashboard.conftest import QUARTER, rows_by_code


def _json(client, query=""):
    return json.loads(client.get(f"/dashboard/export.json?period={QUARTER}{query}").data)


@pytest.mark.parametrize("name", ["funnel", "forest"])
def test_province_charts_come_as_png_svg_and_csv(signed_in, name):
    png = signed_in.get(f"/dashboard/charts/{name}.png?period={QUARTER}")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    svg = signed_in.get(f"/dashboard/charts/{name}.svg?period={QUARTER}")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert "script-src" not in svg.headers["Content-Security-Policy"]
    data = signed_in.get(f"/dashboard/charts/{name}.csv?period={QUARTER}")
    rows = list(csv.DictReader(io.StringIO(data.data.decode("utf-8-sig"))))
    # The funnel draws the reporting units, the forest plot every row with responses (the
    # table's numbers; pooled rows as squares).
    agencies = _json(signed_in)["agencies"]
    drawn = [a for a in agencies if a["valid"] > 0 and (name == "forest" or a["family"] == "unit")]
    assert len(rows) == len(drawn) >= 20
    assert {r["code"] for r in rows} == {a["code"] for a in drawn}
    assert {"code", "valid", "satisfied", "rate"} <= set(rows[0])


def test_an_unknown_chart_is_404(signed_in):
    assert signed_in.get(f"/dashboard/charts/pie.png?period={QUARTER}").status_code == 404
    assert signed_in.get(f"/dashboard/charts/funnel.gif?period={QUARTER}").status_code == 404


def test_csv_export_has_a_bom_and_the_dashboard_rates(signed_in):
    response = signed_in.get(f"/dashboard/export.csv?period={QUARTER}")
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["Mã", "Cơ quan, đơn vị"]
    table = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}"))
    rate = header.index("Tỷ lệ")
    assert len(body) == len(table)
    for row in body:
        shown = table[row[0]].select_one(".rate").get_text().rstrip("%").replace(",", ".")
        assert f"{float(row[rate]) * 100:.1f}" == shown


def test_excel_export_is_formatted_with_a_method_sheet(signed_in):
    response = signed_in.get(f"/dashboard/export.xlsx?period={QUARTER}&verdict=below")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "Cơ quan, đơn vị",
        "Tổng hợp",
        "Phương pháp",
        "Khảo sát gọi lại",
        "Theo hồ sơ",
    ]
    sheet = workbook["Cơ quan, đơn vị"]
    assert sheet.freeze_panes == "C2"
    header = [c.value for c in sheet[1]]
    rate = header.index("Tỷ lệ") + 1
    data = _json(signed_in, "&verdict=below")["agencies"]
    assert sheet.max_row - 1 == len(data)
    for index, agency in enumerate(data, start=2):
        assert sheet.cell(index, 1).value == agency["code"]
        assert sheet.cell(index, rate).value == pytest.approx(agency["rate"], abs=1e-6)
        assert sheet.cell(index, rate).number_format == "0.0%"
    method = {
        row[0].value: row[1].value
        for row in workbook["Phương pháp"].iter_rows(min_row=2)
        if row[0].value
    }
    assert method["Độ tin cậy"] == "95%"
    assert method["Phương pháp tính khoảng ước lượng"] == "Wilson (khuyến nghị)"


def test_pdf_report_has_the_expected_pages_and_vietnamese_text(signed_in, app):
    from survey import reporting
    from survey.reporting import pdf

    # The analytic PDF (matplotlib): what `pdf` gives with REPORT_PDF=analysis or without
    # LibreOffice; the official document is tested in test_official_document.py.
    app.config["REPORT_PDF"] = "analysis"
    response = signed_in.get(f"/dashboard/export.pdf?period={QUARTER}")
    assert response.mimetype == "application/pdf"
    with app.test_request_context():
        report = reporting.build_report(reporting.parse_options({"period": QUARTER}, None))
        expected = pdf.pdf_page_count(report)
        below = len(pdf.agency_page_rows(report))
    # title, summary, table, funnel and forest, agencies below target, follow-up, methods
    assert below == 8 and expected == 2 + 1 + 2 + below + 1 + 1
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDF's text")
    info = subprocess.run(["pdfinfo", "-"], input=response.data, capture_output=True, check=True)
    assert f"Pages:           {expected}" in info.stdout.decode()
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True
    ).stdout.decode()
    assert "Tỉnh Hài Long (dữ liệu mẫu)" in text
    assert "Quý 3/2026" in text
    assert "Phương pháp" in text and "Sở Nông nghiệp và Môi trường" in text


def test_every_export_is_written_to_the_audit_log(signed_in, analyst):
    for fmt in ("csv", "xlsx", "pdf", "json"):
        assert signed_in.get(f"/dashboard/export.{fmt}?period={QUARTER}").status_code == 200
    db.session.expire_all()
    entries = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "report.export").order_by(AuditLog.id)
    ).all()
    assert [e.detail["format"] for e in entries] == ["csv", "xlsx", "pdf", "json"]
    assert {e.actor for e in entries} == {analyst.email}
    assert {e.target for e in entries} == {QUARTER}


def test_an_unknown_export_format_is_404_and_not_audited(signed_in):
    assert signed_in.get(f"/dashboard/export.odt?period={QUARTER}").status_code == 404
    # A wrong period leads to the dashboard, which shows the message in its form.
    assert signed_in.get("/dashboard/export.csv?period=bad").status_code == 303
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "report.export")
        )
        == 0
    )


def test_the_dashboard_links_its_charts_and_exports_with_the_same_view(signed_in):
    page = html(signed_in.get(f"/dashboard?period={QUARTER}&confidence=99"))
    links = [a["href"] for a in page.select(".exports a, figure.chart a")]
    assert len(links) == 4 + 6  # CSV, Excel, PDF, Word; SVG, PNG and data of two charts
    assert all("confidence=99" in link and f"period={QUARTER}" in link for link in links)
