"""The report splits valid ratings by language and by kiosk mode: on the agency page, as CSV,
in the API's JSON and on the analytic PDF's agency pages."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import uuid
from datetime import datetime

import pytest

from survey.credentials import issue_api_key
from survey.extensions import db
from survey.models import Channel, Questionnaire, Role
from survey.responses import Submission, record

PERIOD = "2026-Q2"
WHEN = datetime(2026, 5, 12, 3, 0)


@pytest.fixture
def rated(make_agency, make_desk, tay):
    """An agency with 3 ratings in Tày on a faces-only kiosk (2 satisfied), 2 in Vietnamese on
    the standard screen (none satisfied), and 1 by QR code (no mode)."""
    agency = make_agency(code="XBK", name="Xã Bằng Khánh")
    desk = make_desk(agency=agency)
    ratings = [
        ("rat_hai_long", "tay", "faces", Channel.KIOSK),
        ("hai_long", "tay", "faces", Channel.KIOSK),
        ("khong_hai_long", "tay", "faces", Channel.KIOSK),
        ("khong_hai_long", "vi", "standard", Channel.KIOSK),
        ("khong_hai_long", "vi", "standard", Channel.KIOSK),
        ("khong_hai_long", "vi", None, Channel.QR),
    ]
    for level, language, mode, channel in ratings:
        record(
            Submission(
                id=uuid.uuid4(),
                desk=desk,
                questionnaire=Questionnaire.default(),
                channel=channel,
                level=level,
                occurred_at=WHEN,
                language=language,
                mode=mode,
            )
        )
    return agency


EXPECTED = [
    ["language", "tay", "Tiếng Tày", "3", "2"],
    ["language", "vi", "Tiếng Việt", "3", "0"],
    ["mode", "standard", "Màn hình thường", "2", "0"],
    ["mode", "faces", "Chỉ dùng khuôn mặt (không có chữ)", "3", "2"],
]


def test_the_splits_download_as_csv(client, login, make_user, rated):
    login(make_user(role=Role.ANALYST))
    page = client.get(f"/dashboard/agency/XBK?period={PERIOD}")
    assert page.status_code == 200
    response = client.get(f"/dashboard/agency/XBK/splits.csv?period={PERIOD}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0] == ["split", "code", "name", "responses", "satisfied", "rate", "low", "high"]
    assert [line[:5] for line in lines[1:]] == EXPECTED
    assert float(lines[1][5]) == pytest.approx(2 / 3)


def test_the_api_report_carries_the_splits(client, rated):
    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    response = client.get(
        f"/api/v1/report?period={PERIOD}&agency=XBK", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200
    splits = response.get_json()["splits"]
    assert splits["agency"] == "XBK"
    assert [(s["code"], s["responses"], s["satisfied"]) for s in splits["language"]] == [
        ("tay", 3, 2),
        ("vi", 3, 0),
    ]
    assert [(s["code"], s["responses"], s["satisfied"]) for s in splits["mode"]] == [
        ("standard", 2, 0),
        ("faces", 3, 2),
    ]
    assert 0 < splits["mode"][1]["low"] < 2 / 3 < splits["mode"][1]["high"] < 1


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs pdftotext (poppler-utils)")
def test_the_analytic_pdf_prints_the_splits_on_the_agency_page(
    client, login, make_user, app, rated
):
    app.config["REPORT_PDF"] = "analysis"
    login(make_user(role=Role.ANALYST))
    response = client.get(f"/dashboard/export.pdf?period={PERIOD}&agency=XBK")
    assert response.mimetype == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=response.data, capture_output=True, check=True
    ).stdout.decode()
    assert "Theo ngôn ngữ" in text and "Tiếng Tày" in text
    assert "Chỉ dùng khuôn mặt (không có chữ)" in text
