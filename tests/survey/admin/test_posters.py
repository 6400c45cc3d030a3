"""QR posters: a print-ready PDF whose QR code, scanned, opens that desk's survey."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from survey.models import Level
from survey.posters import INSTRUCTION
from tests.conftest import missing_service

pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="needs pyzbar and libzbar0")
from PIL import Image  # noqa: E402  (after the skip above)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing_service(f"{name} (poppler-utils) is needed to read the posters")
    return path


def scan(pdf: bytes, tmp_path: Path) -> list[str]:
    """Render every page at 100 dpi and decode the QR codes on it, page by page."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    source = folder / "posters.pdf"
    source.write_bytes(pdf)
    subprocess.run([tool("pdftoppm"), "-r", "100", "-png", source, folder / "page"], check=True)
    found = []
    for page in sorted(folder.glob("page-*.png")):
        codes = pyzbar.decode(Image.open(page))
        assert len(codes) == 1, page
        found.append(codes[0].data.decode())
    return found


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        [tool("pdftotext"), source, "-"], check=True, capture_output=True, text=True
    ).stdout


def page_size_points(pdf: bytes, tmp_path: Path) -> tuple[float, float]:
    source = tmp_path / "size.pdf"
    source.write_bytes(pdf)
    info = subprocess.run([tool("pdfinfo"), source], check=True, capture_output=True, text=True)
    line = next(line for line in info.stdout.splitlines() if line.startswith("Page size"))
    width, _x, height = line.split(":")[1].split()[:3]
    return float(width), float(height)


def test_scanning_a_desk_poster_opens_that_desks_survey(admin_client, make_desk, tmp_path):
    desk = make_desk(code="Q1", name="Quầy tiếp nhận số 1")
    response = admin_client.get(f"/admin/posters.pdf?desk={desk.id}&size=A4")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "qr-Q1-A4.pdf" in response.headers["Content-Disposition"]
    [url] = scan(response.data, tmp_path)
    survey = admin_client.get(urlsplit(url).path)
    assert survey.status_code == 200
    assert "Quầy tiếp nhận số 1" in survey.get_data(as_text=True)


def test_a_poster_carries_the_names_the_instruction_and_the_url(admin_client, make_desk, tmp_path):
    desk = make_desk(name="Quầy trả kết quả")
    response = admin_client.get(f"/admin/posters.pdf?desk={desk.id}&size=A5")
    text = " ".join(pdf_text(response.data, tmp_path).split())
    assert desk.agency.name in text and "Quầy trả kết quả" in text
    assert INSTRUCTION in text
    assert "http://hailong.test/s/" in text
    width, height = page_size_points(response.data, tmp_path)
    assert (round(width), round(height)) == (420, 595)  # A5 in points


def test_a_subtree_poster_run_has_one_page_per_active_desk(
    admin_client, make_agency, make_desk, tmp_path
):
    province = make_agency(code="P", level=Level.PROVINCE)
    commune = make_agency(code="C", parent=province)
    desks = [make_desk(agency=province, code="D1"), make_desk(agency=commune, code="D2")]
    make_desk(agency=commune, code="D3", active=False)
    only_own = admin_client.get(f"/admin/posters.pdf?agency={province.id}&size=A4")
    assert len(scan(only_own.data, tmp_path)) == 1
    whole = admin_client.get(f"/admin/posters.pdf?agency={province.id}&size=A4&subtree=y")
    urls = scan(whole.data, tmp_path)
    assert len(urls) == 2
    for url, desk in zip(urls, desks, strict=True):
        assert desk.name in admin_client.get(urlsplit(url).path).get_data(as_text=True)
    width, height = page_size_points(whole.data, tmp_path)
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_bad_poster_requests_get_clear_4xx(admin_client, make_agency):
    empty = make_agency()
    assert admin_client.get("/admin/posters.pdf?size=A4").status_code == 400
    assert admin_client.get(f"/admin/posters.pdf?agency={empty.id}&size=A3").status_code == 400
    no_desks = admin_client.get(f"/admin/posters.pdf?agency={empty.id}&size=A4")
    assert no_desks.status_code == 404
    assert "Hãy thêm quầy trước" in no_desks.get_data(as_text=True)


def test_qr_posters_command_writes_a_scannable_pdf(runner, app, make_desk, tmp_path):
    desk = make_desk(code="Q9")
    app.config["PUBLIC_BASE_URL"] = "https://hailong.example.gov.vn"
    out = tmp_path / "out.pdf"
    result = runner.invoke(args=["qr-posters", "--agency", desk.agency.code, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 A4 posters" in result.output
    [url] = scan(out.read_bytes(), tmp_path)
    assert url.startswith("https://hailong.example.gov.vn/s/")
    client = app.test_client()
    assert client.get(urlsplit(url).path).status_code == 200


def test_qr_posters_command_needs_exactly_one_target(runner, tmp_path):
    result = runner.invoke(args=["qr-posters", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert "exactly one of --agency CODE or --desk CODE" in result.output
