"""The official report document (Decree 30/2020/NĐ-CP): DOCX from the dashboard, the CLI and
the API, opened with python-docx; the PDF is the same document printed by LibreOffice, read
with pdftotext and drawn to images with pdftoppm."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from docx import Document
from docx.oxml.ns import qn

from survey.credentials import issue_api_key
from survey.extensions import db
from survey.reporting import document, exports
from tests.conftest import missing_service
from tests.survey.dashboard.conftest import QUARTER

TRICH_YEU = (
    "Kết quả đánh giá mức độ hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan "
    "hành chính nhà nước quý 3/2026"
)


def _text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_the_docx_has_every_part_of_an_administrative_document(signed_in):
    response = signed_in.get(f"/dashboard/export.docx?period={QUARTER}")
    assert response.status_code == 200
    assert response.mimetype == document.DOCX_MEDIA_TYPE
    assert "hailong-2026-Q3-all.docx" in response.headers["Content-Disposition"]
    doc = Document(io.BytesIO(response.data))
    text = _text(doc)
    # Quốc hiệu, tiêu ngữ, issuer, số/ký hiệu left blank, place and date, trích yếu.
    for part in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "SỞ NỘI VỤ",
        "Số:       /BC-SNV",
        "ngày 21 tháng 11 năm 2026",
        "BÁO CÁO",
        TRICH_YEU,
        "Nơi nhận:",
        "- Lưu: VT.",
        "GIÁM ĐỐC",
        "(Ký, ghi rõ họ tên, đóng dấu)",
    ):
        assert part in text, part
    # The body: sentences from the figures.
    json_report = signed_in.get(f"/dashboard/export.json?period={QUARTER}").json
    s = json_report["summary"]
    judged = [a for a in json_report["agencies"] if a["depth"] > 0 and a["valid"]]
    meets = sum(1 for a in judged if a["verdict"] == "meets")
    below = [a["name"] for a in judged if a["verdict"] == "below"]
    assert f"Trong quý 3/2026, {meets}/{len(judged)} cơ quan, đơn vị đạt mục tiêu 90%" in text
    assert f"{len(below)} cơ quan, đơn vị chưa đạt: " + ", ".join(below) in text
    assert f"hệ thống ghi nhận {s['valid']:,} phiếu".replace(",", ".") in text
    assert "Điểm chỉ số bình quân đạt" in text and "xếp loại" in text
    # Tables: the agencies (header repeated on every page) with the counts by level.
    agencies = doc.tables[1]
    head = [c.text for c in agencies.rows[0].cells]
    assert head[3:6] == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    assert agencies.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    first = json_report["agencies"][0]
    cells = [c.text for c in agencies.rows[1].cells]
    assert cells[1].strip() == first["name"]
    assert cells[3:6] == [
        f"{first['levels'][k]:,}".replace(",", ".")
        for k in ("rat_hai_long", "hai_long", "khong_hai_long")
    ]
    assert head[7] == "Tỷ lệ phản hồi"  # beside the rate
    assert "Không đạt" in cells[9] or "Đạt" in cells[9]
    assert any("Điểm bình quân" in c.text for c in doc.tables[2].rows[0].cells)
    assert "Ba chỉ số thấp điểm nhất" in _text(doc)
    # Times New Roman, 13-14 pt in the body; a page number field in the header.
    body = [r for p in doc.paragraphs for r in p.runs if r.text.strip()]
    assert {r.font.name for r in body} == {"Times New Roman"}
    sizes = {
        r.font.size.pt for p in doc.paragraphs if p.text.startswith("Trong quý") for r in p.runs
    }
    assert sizes == {13.0}
    header_xml = doc.sections[0].header._element.xml
    assert "PAGE" in header_xml and doc.sections[0].different_first_page_header_footer


def test_the_cli_and_the_api_write_the_same_document(runner, tmp_path, signed_in):
    out = tmp_path / "q3.docx"
    result = runner.invoke(
        args=["report", "--period", QUARTER, "--format", "docx", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Writing the DOCX" in result.output
    assert TRICH_YEU in _text(Document(str(out)))
    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    api = signed_in.get(f"/api/v1/report?period={QUARTER}&format=docx", headers=headers)
    assert api.status_code == 200 and api.mimetype == document.DOCX_MEDIA_TYPE
    assert TRICH_YEU in _text(Document(io.BytesIO(api.data)))
    bad = signed_in.get(f"/api/v1/report?period={QUARTER}&format=odt", headers=headers)
    assert bad.status_code == 400 and bad.json["field"] == "format"


def test_the_pdf_is_the_same_document_with_embedded_fonts_and_diacritics(signed_in, app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the document does not depend on the database; printed once")
    if document.soffice() is None or shutil.which("pdftotext") is None:
        missing_service("LibreOffice and poppler-utils are needed to print and read the PDF")
    with app.test_request_context():
        assert exports.official_pdf()
    response = signed_in.get(f"/dashboard/export.pdf?period={QUARTER}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "q3.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    flat = " ".join(text.split())
    for part in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BÁO CÁO",
        " ".join(TRICH_YEU.split()),
        "Nơi nhận:",
        "GIÁM ĐỐC",
        "Sở Nông nghiệp và Môi trường",
        "Rất hài lòng",
        "Không đạt",
    ):
        assert part in flat, part
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True).stdout
    lines = fonts.decode().splitlines()[2:]
    assert lines and all(" yes " in line for line in lines)  # every font embedded
    assert any("Serif" in line or "Times" in line for line in lines)
    # Drawn to images (looked at while writing the document: docs/reporting.md).
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "2", str(path), str(tmp_path / "page")],
        check=True,
    )
    assert sorted(p.name for p in tmp_path.glob("page-*.png")) == ["page-1.png", "page-2.png"]
