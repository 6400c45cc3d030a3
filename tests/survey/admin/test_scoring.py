"""The province's indicator-score settings at /admin/scoring: the defaults until an
administrator changes them, validation, CSRF, global administrators only, and a change that
every channel uses for the next report."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa

from survey import reporting, scoring
from survey.extensions import db
from survey.models import Answer, AuditLog, Level, Questionnaire, Response, Role
from survey.reporting import exports
from tests.conftest import csrf_token, html
from tests.survey.admin.conftest import post

AT = datetime(2026, 8, 3, 3)  # in 2026-Q3
VALID = {
    "level_rat_hai_long": "2",
    "level_hai_long": "1",
    "level_khong_hai_long": "0",
    "excellent": "15",
    "good": "12",
    "fair": "9",
    "average": "6",
}


def _plant(desk, level: str, count: int) -> None:
    """`count` responses rating `level` overall and on every criterion of the default version."""
    questionnaire = Questionnaire.default()
    for _ in range(count):
        rid = uuid.uuid4()
        db.session.execute(
            sa.insert(Response),
            [
                {
                    "id": rid,
                    "desk_id": desk.id,
                    "agency_id": desk.agency_id,
                    "questionnaire_id": questionnaire.id,
                    "channel": "qr",
                    "level": level,
                    "satisfied": questionnaire.is_satisfied(level),
                    "occurred_at": AT,
                    "received_at": AT,
                    "status": "valid",
                    "content_hash": hashlib.sha256(rid.bytes).hexdigest(),
                }
            ],
        )
        for criterion in questionnaire.criterion_codes():
            db.session.add(
                Answer(
                    response_id=rid,
                    criterion=criterion,
                    level=level,
                    satisfied=questionnaire.is_satisfied(level),
                )
            )
    db.session.commit()


def _json_row(app, code: str) -> dict:
    with app.test_request_context():
        report = reporting.build_report(reporting.parse_options({"period": "2026-Q3"}, None))
        data = exports.to_json(report)
        lines = list(csv.DictReader(io.StringIO(exports.to_csv(report).decode("utf-8-sig"))))
    row = next(r for r in data["agencies"] if r["code"] == code)
    line = next(line for line in lines if code in line.values())
    return {"points": row["points"], "csv_class": line["Xếp loại điểm"]}


def test_the_page_shows_the_defaults_until_an_administrator_changes_them(admin_client):
    page = html(admin_client.get("/admin/scoring"))
    assert page.select_one("#excellent")["value"] == "15"
    assert page.select_one("#average")["value"] == "6"
    assert page.select_one("#level_rat_hai_long")["value"] == "2"
    assert page.select_one("#level_khong_hai_long")["value"] == "0"
    assert "POINTS_BY_LEVEL" in page.select_one("#scoring-source").get_text()
    assert page.select_one("#scoring-reset") is None


def test_a_change_applies_to_the_next_report_in_every_channel(
    app, admin_client, make_agency, make_desk, make_user
):
    province = make_agency("P", level=Level.PROVINCE)
    desk = make_desk(agency=make_agency("A", parent=province))
    _plant(desk, "hai_long", 2)  # 9 indicators x 1 point = 9 points: Khá by default
    before = _json_row(app, "A")
    assert before["points"]["total"] == pytest.approx(9) and before["points"]["class"] == "kha"

    changed = {**VALID, "level_hai_long": "1,5", "fair": "14", "good": "16", "excellent": "17"}
    assert post(admin_client, "/admin/scoring", changed).status_code == 303
    after = _json_row(app, "A")
    assert after["points"]["total"] == pytest.approx(13.5)
    assert after["points"]["class"] == "trung_binh" and after["csv_class"] == "Trung bình"
    # The dashboard and the API read the same settings.
    page = html(admin_client.get("/dashboard/agency/A?period=2026-Q3"))
    assert "13,5" in page.get_text()
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "scoring.edit"))
    assert entry.detail["thresholds"] == [17.0, 16.0, 14.0, 6.0]

    # Back to the installation's settings.
    page = html(admin_client.get("/admin/scoring"))
    assert page.select_one("#scoring-reset") is not None
    assert post(admin_client, "/admin/scoring/reset").status_code == 303
    assert _json_row(app, "A")["points"]["class"] == "kha"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"good": "16"}, "Xuất sắc"),  # not decreasing
        ({"fair": "abc"}, "12,5"),
        ({"level_hai_long": "11"}, "0 đến 10"),
        ({"average": ""}, "Vui lòng nhập"),
        (
            {"level_rat_hai_long": "", "level_hai_long": "", "level_khong_hai_long": ""},
            "ít nhất",
        ),
    ],
)
def test_wrong_settings_are_refused_with_a_message(admin_client, change, message):
    response = post(admin_client, "/admin/scoring", {**VALID, **change})
    assert response.status_code == 400
    assert message in html(response).select_one(".error-summary").get_text()
    assert scoring.stored(scoring.POINTS_THRESHOLDS) is None


def test_without_the_csrf_token_nothing_changes(admin_client):
    assert admin_client.post("/admin/scoring", data=VALID).status_code == 400
    assert admin_client.post("/admin/scoring/reset", data={"x": "1"}).status_code == 400
    assert scoring.stored(scoring.POINTS_THRESHOLDS) is None
    token = csrf_token(admin_client.get("/admin/"))
    assert (
        admin_client.post("/admin/scoring", data={**VALID, "csrf_token": token}).status_code == 303
    )


def test_agency_administrators_cannot_change_the_provinces_settings(
    client, login, make_agency, make_user
):
    agency = make_agency("XA")
    login(make_user(role=Role.ADMIN, agency=agency, email="xa@example.org"))
    assert client.get("/admin/scoring").status_code == 403
    assert post(client, "/admin/scoring", VALID).status_code == 403
    assert post(client, "/admin/scoring/reset").status_code == 403
    assert scoring.stored(scoring.POINTS_THRESHOLDS) is None
