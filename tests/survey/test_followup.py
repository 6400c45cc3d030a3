"""The follow-up sample: a reproducible stratified draw of returned dossiers only, the call
list, recorded outcomes stored as channel `followup`, the comparison with self-selected
ratings computed independently from planted rows, and who may see it."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis.followup import allocate
from survey.extensions import db
from survey.followup.models import FollowupDraw, FollowupItem
from survey.followup.service import (
    FollowupError,
    call_list,
    comparison,
    draw,
    record_outcome,
)
from survey.models import AuditLog, Channel, Level, Response, Role, Ticket
from survey.responses import Submission, record
from tests.conftest import csrf_token, html


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context("/?lang=en"):
        yield


@pytest.fixture
def frame(make_agency, make_desk):
    """Two communes under a province: 60 and 30 dossiers returned in 2026-Q3, plus dossiers
    not returned, returned in another quarter, or in another province."""
    province = make_agency(code="HL", level=Level.PROVINCE)
    a = make_agency(code="XA", parent=province)
    b = make_agency(code="XB", parent=province)
    other = make_agency(code="HB", level=Level.PROVINCE)
    desks = {"XA": make_desk(agency=a, code="QA"), "XB": make_desk(agency=b, code="QB")}
    outside = make_desk(agency=other, code="QO")
    returned = {"XA": [], "XB": []}

    def ticket(desk, code, returned_date):
        t = Ticket(
            token_hash=uuid.uuid4().hex,
            dossier_code=code,
            desk_id=desk.id,
            returned_date=returned_date,
            created_at=datetime(2026, 7, 1),
            expires_at=datetime(2026, 12, 1),
        )
        db.session.add(t)
        return t

    for i in range(60):
        returned["XA"].append(ticket(desks["XA"], f"A-{i}", date(2026, 7, 1) + timedelta(days=i)))
    for i in range(30):
        returned["XB"].append(ticket(desks["XB"], f"B-{i}", date(2026, 8, 1) + timedelta(days=i)))
    for i in range(10):
        ticket(desks["XA"], f"N-{i}", None)  # not returned
        ticket(desks["XB"], f"Q2-{i}", date(2026, 6, 30))  # returned in Q2
        ticket(outside, f"O-{i}", date(2026, 8, 1))  # another province
    db.session.commit()
    return province, {"XA": a, "XB": b}, desks, returned


def test_the_draw_is_stratified_proportional_reproducible_and_takes_only_returned_dossiers(frame):
    province, agencies, _desks, returned = frame
    first = draw("2026-Q3", 30, agency_code="HL", seed=20261130)
    assert first.seed == 20261130 and len(first.items) == 30
    expected = allocate([60, 30], 30).tolist()
    assert first.allocation == {
        str(agencies["XA"].id): {"population": 60, "sample": expected[0]},
        str(agencies["XB"].id): {"population": 30, "sample": expected[1]},
    }
    by_agency = {}
    for item in first.items:
        by_agency.setdefault(item.agency_id, []).append(item.ticket)
    assert {a: len(ts) for a, ts in by_agency.items()} == {
        agencies["XA"].id: 20,
        agencies["XB"].id: 10,
    }
    allowed = {t.id for ts in returned.values() for t in ts}
    assert {item.ticket_id for item in first.items} <= allowed  # returned in Q3, in HL only
    again = draw("2026-Q3", 30, agency_code="HL", seed=20261130)
    assert [i.ticket_id for i in again.items] == [i.ticket_id for i in first.items]
    different = draw("2026-Q3", 30, agency_code="HL", seed=7)
    assert [i.ticket_id for i in different.items] != [i.ticket_id for i in first.items]
    # Without a seed, one is chosen and stored, so the draw can still be reproduced.
    fresh = draw("2026-Q3", 30, agency_code="HL")
    replay = draw("2026-Q3", 30, agency_code="HL", seed=fresh.seed)
    assert [i.ticket_id for i in replay.items] == [i.ticket_id for i in fresh.items]


def test_a_draw_larger_than_the_frame_takes_everything_once(frame):
    _province, _agencies, _desks, returned = frame
    everything = draw("2026-Q3", 500, agency_code="HL", seed=1)
    assert len(everything.items) == 90 == len({i.ticket_id for i in everything.items})


def test_draw_errors(frame):
    with pytest.raises(FollowupError):
        draw("2026-Q3", 0)
    with pytest.raises(FollowupError):
        draw("2026-Q3", 5, agency_code="NOPE")
    with pytest.raises(FollowupError):
        draw("2025-Q1", 5)


def test_the_call_list_names_dossiers_and_nothing_personal(frame):
    followup = draw("2026-Q3", 6, agency_code="XB", seed=3)
    rows = list(csv.reader(io.StringIO(call_list(followup).decode("utf-8-sig"))))
    assert rows[0] == [
        "item",
        "agency_code",
        "agency",
        "desk_code",
        "dossier_code",
        "procedure",
        "returned_date",
    ]
    assert len(rows) == 7 and all(r[4].startswith("B-") for r in rows[1:])


def _self_rating(desk, satisfied: bool, when: datetime):
    record(
        Submission(
            id=uuid.uuid4(),
            desk=desk,
            questionnaire=desk.current_questionnaire(),
            channel=Channel.KIOSK,
            level="hai_long" if satisfied else "khong_hai_long",
            occurred_at=when,
        )
    )


@pytest.fixture
def called(frame):
    """Every returned dossier of HL drawn and called (answered, refused or unreachable by the
    item's order; satisfied or not by a fixed pattern), beside self-selected kiosk ratings:
    XA 95 of 100 satisfied (steered), XB 20 of 30. Returns the draw, the calls' tallies by
    agency code and the self-selected counts."""
    _province, agencies, desks, _returned = frame
    followup = draw("2026-Q3", 90, agency_code="HL", seed=11)
    for i in range(100):
        _self_rating(desks["XA"], i < 95, datetime(2026, 7, 2, 3) + timedelta(hours=5 * i))
    for i in range(30):
        _self_rating(desks["XB"], i < 20, datetime(2026, 8, 2, 3) + timedelta(hours=5 * i))
    planted = {}
    for n, item in enumerate(db.session.scalars(sa.select(FollowupItem).order_by(FollowupItem.id))):
        code = "XA" if item.agency_id == agencies["XA"].id else "XB"
        k = planted.setdefault(
            code, {"answered": 0, "satisfied": 0, "refused": 0, "unreachable": 0}
        )
        if n % 6 == 5:
            outcome = "refused"
        elif n % 6 == 4:
            outcome = "unreachable"
        else:
            outcome = "answered"
        satisfied = (n % 3 != 0) if code == "XA" else (n % 3 != 2)
        if outcome == "answered":
            record_outcome(
                item,
                "answered",
                level="hai_long" if satisfied else "khong_hai_long",
                answers={"attitude": "rat_hai_long"},
                actor="tests",
            )
            k["answered"] += 1
            k["satisfied"] += satisfied
        else:
            record_outcome(item, outcome, actor="tests")
            k[outcome] += 1
    return followup, planted, {"XA": (95, 100), "XB": (20, 30)}


def _expected_checks(planted, self_counts) -> dict[str, dict]:
    """The comparison per agency code, computed from the planted tallies (statsmodels for
    the intervals)."""
    from statsmodels.stats.proportion import proportion_confint

    expected = {}
    for code, k in planted.items():
        called = k["answered"] + k["refused"] + k["unreachable"]
        low, high = proportion_confint(k["satisfied"], k["answered"], method="wilson")
        d_low, d_high = confint_proportions_2indep(
            *self_counts[code], k["satisfied"], k["answered"], method="newcomb", compare="diff"
        )
        x_self, n_self = self_counts[code]
        expected[code] = {
            "followup": (k["satisfied"], k["answered"]),
            "rate": k["satisfied"] / k["answered"],
            "interval": (low, high),
            "response_rate": k["answered"] / called,
            "called": called,
            "sampled": called,  # every item was called
            "self": self_counts[code],
            "self_rate": x_self / n_self,
            "difference": (x_self / n_self - k["satisfied"] / k["answered"], d_low, d_high),
            "differs": bool(d_low > 0 or d_high < 0),
        }
    assert {e["differs"] for e in expected.values()} == {True, False}  # one of each
    return expected


def test_outcomes_and_the_comparison_match_the_planted_rows(called, client, login, make_user):
    followup, planted, self_counts = called
    stored = db.session.scalars(
        sa.select(Response).where(Response.channel == Channel.FOLLOWUP)
    ).all()
    assert len(stored) == planted["XA"]["answered"] + planted["XB"]["answered"]
    assert all(r.dossier_code and r.ticket_id is None for r in stored)
    assert {a.criterion for r in stored for a in r.answers} == {"attitude"}

    checks = {c.code: c for c in comparison(followup)}
    for code, k in planted.items():
        c = checks[code]
        assert (c.answered, c.refused, c.unreachable, c.pending) == (
            k["answered"],
            k["refused"],
            k["unreachable"],
            0,
        )
        assert c.followup_satisfied == k["satisfied"]
        assert c.response_rate == pytest.approx(
            k["answered"] / (k["answered"] + k["refused"] + k["unreachable"])
        )
        # The self-selected side leaves the follow-up answers out.
        assert (c.self_satisfied, c.self_responses) == self_counts[code]
        low, high = confint_proportions_2indep(
            *self_counts[code], k["satisfied"], k["answered"], method="newcomb", compare="diff"
        )
        assert (c.check.low, c.check.high) == pytest.approx((low, high))
        assert c.check.differs == (low > 0 or high < 0)
    assert checks["XA"].check.differs  # 95% self-selected against about 2 in 3 on the phone

    # The same comparison in the report: the agency page, its CSV and the JSON report, each
    # checked against the planted rows (the Excel, PDF and Word reports: the next test).
    from survey.credentials import issue_api_key

    expected = _expected_checks(planted, self_counts)
    login(make_user(role=Role.ADMIN))
    page = html(client.get("/dashboard/agency/HL?period=2026-Q3&lang=en"))
    rows = {tr["data-code"]: tr for tr in page.select("#followup-report tbody tr")}
    assert set(rows) == set(expected)
    for code, e in expected.items():
        cells = rows[code]
        x, n = e["followup"]
        assert f"({x}/{n})" in cells.select_one(".followup-estimate").get_text()
        assert f"({n}/{e['called']})" in cells.select_one(".followup-response").get_text()
        assert "({}/{})".format(*e["self"]) in cells.select_one(".self-estimate").get_text()
        assert ("flagged" in (cells.get("class") or [])) == e["differs"]
    table = list(
        csv.DictReader(
            io.StringIO(
                client.get("/dashboard/agency/HL/followup.csv?period=2026-Q3").data.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert {line["agency_code"] for line in table} == set(expected)
    for line in table:
        e = expected[line["agency_code"]]
        assert (int(line["followup_satisfied"]), int(line["answered"])) == e["followup"]
        assert float(line["followup_low"]) == pytest.approx(e["interval"][0], abs=1e-6)
        assert float(line["followup_high"]) == pytest.approx(e["interval"][1], abs=1e-6)
        assert float(line["followup_response_rate"]) == pytest.approx(e["response_rate"])
        assert (int(line["self_satisfied"]), int(line["self_responses"])) == e["self"]
        assert line["differs_beyond_chance"] == ("yes" if e["differs"] else "no")
    _key, token = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    body = client.get(
        "/api/v1/report?period=2026-Q3&agency=HL", headers={"Authorization": f"Bearer {token}"}
    ).json["followup"]
    assert body["draw"] == followup.id and body["seed"] == 11
    for agency in body["agencies"]:
        e = expected[agency["agency"]]
        got = agency["followup"]
        assert (got["satisfied"], got["responses"]) == e["followup"]
        assert (got["low"], got["high"]) == pytest.approx(e["interval"])
        assert agency["followup_response_rate"] == pytest.approx(e["response_rate"])
        assert (
            agency["self_selected"]["satisfied"],
            agency["self_selected"]["responses"],
        ) == e["self"]
        assert agency["differs_beyond_chance"] is e["differs"]
    # An answered call is final.
    answered = db.session.scalar(
        sa.select(FollowupItem).where(FollowupItem.outcome == "answered").limit(1)
    )
    with pytest.raises(FollowupError):
        record_outcome(answered, "refused", actor="tests")
    with pytest.raises(FollowupError):
        record_outcome(
            db.session.scalar(
                sa.select(FollowupItem).where(FollowupItem.outcome == "refused").limit(1)
            ),
            "answered",
            actor="tests",
        )  # answered needs a rating


def _vi_percent(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}".replace(".", ",") + "%"


def _points(value: float) -> str:
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{abs(value) * 100:.1f}"


def test_the_excel_pdf_and_word_reports_show_the_follow_up_check_as_planted(
    called, app, client, login, make_user
):
    """The report's files (Excel, the analytic PDF, the official Word document) carry the
    follow-up check, each checked against the planted rows like the page, CSV and JSON."""
    import re
    import shutil
    import subprocess

    from docx import Document
    from openpyxl import load_workbook

    from survey.followup.service import CHECKS_HEADER

    followup, planted, self_counts = called
    expected = _expected_checks(planted, self_counts)
    names = {f"Xã {code}": code for code in expected}
    login(make_user(role=Role.ADMIN))

    # Excel: a sheet with the follow-up CSV's columns, then the draw it rests on.
    book = load_workbook(
        io.BytesIO(client.get("/dashboard/export.xlsx?period=2026-Q3&agency=HL&lang=vi").data)
    )
    assert "Khảo sát gọi lại" in book.sheetnames
    sheet = book["Khảo sát gọi lại"]
    found = {}
    for values in sheet.iter_rows(min_row=2, values_only=True):
        if values[0] in expected:
            found[values[0]] = dict(zip(CHECKS_HEADER, values, strict=False))
    assert set(found) == set(expected)
    for code, e in expected.items():
        line = found[code]
        assert (line["followup_satisfied"], line["answered"]) == e["followup"]
        assert (line["sampled"], line["pending"]) == (e["sampled"], 0)
        assert line["followup_rate"] == pytest.approx(e["rate"], abs=1e-6)
        assert (line["followup_low"], line["followup_high"]) == pytest.approx(
            e["interval"], abs=1e-6
        )
        assert line["followup_response_rate"] == pytest.approx(e["response_rate"], abs=1e-6)
        assert (line["self_satisfied"], line["self_responses"]) == e["self"]
        assert line["self_rate"] == pytest.approx(e["self_rate"], abs=1e-6)
        assert (
            line["difference"],
            line["difference_low"],
            line["difference_high"],
        ) == pytest.approx(e["difference"], abs=1e-6)
        assert line["differs_beyond_chance"] == ("có" if e["differs"] else "không")
    notes = [row[0] for row in sheet.iter_rows(values_only=True) if row[0] and row[1] is None]
    assert any(f"số {followup.id} " in n and "hạt giống 11" in n for n in notes)

    # The analytic PDF: a page with one block per sampled agency.
    app.config["REPORT_PDF"] = "analysis"
    if shutil.which("pdftotext"):
        pdf = client.get("/dashboard/export.pdf?period=2026-Q3&agency=HL&lang=vi").data
        text = " ".join(
            subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
            .stdout.decode()
            .split()
        )
        assert "Kiểm tra phiếu đánh giá tự nguyện bằng gọi lại" in text
        for code, e in expected.items():
            x, n = e["followup"]
            low, high = e["interval"]
            verdict = "Khác biệt vượt mức ngẫu nhiên" if e["differs"] else "Phù hợp"
            d, d_low, d_high = (_points(v).replace(".", ",") for v in e["difference"])
            assert re.search(
                re.escape(
                    f"Xã {code} ({code}): {verdict} Gọi lại: {_vi_percent(e['rate'])} "
                    f"({x}/{n}), khoảng tin cậy {_vi_percent(low)}–{_vi_percent(high)}. "
                    f"Tỷ lệ trả lời cuộc gọi: {_vi_percent(e['response_rate'], 0)} "
                    f"({n}/{e['called']};"
                )
                + ".*?"
                + re.escape(
                    f"Tự nguyện: {_vi_percent(e['self_rate'])} ({e['self'][0]}/{e['self'][1]}). "
                    f"Chênh lệch: {d} điểm phần trăm ({d_low} … {d_high})."
                ),
                text,
            ), code

    # Word: section VI, a sentence naming the agencies that differ, and a table.
    doc = Document(io.BytesIO(client.get("/dashboard/export.docx?period=2026-Q3&agency=HL").data))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "VI. KIỂM TRA KẾT QUẢ BẰNG KHẢO SÁT GỌI LẠI" in paragraphs
    differ = [code for code, e in expected.items() if e["differs"]]
    summary = next(p for p in paragraphs if p.startswith("Có ") and "gọi lại:" in p)
    assert summary.startswith(f"Có {len(differ)}/{len(expected)} cơ quan")
    assert all(f"Xã {code} (tự nguyện" in summary for code in differ)
    table = next(
        t
        for t in doc.tables
        if len(t.columns) > 2 and t.rows[0].cells[2].text == "Số hồ sơ được chọn"
    )
    seen = set()
    for row in table.rows[1:]:
        cells = [c.text for c in row.cells]
        code = names[cells[1]]
        seen.add(code)
        e = expected[code]
        x, n = e["followup"]
        low, high = e["interval"]
        d, d_low, d_high = e["difference"]
        assert cells[2] == str(e["sampled"])
        assert cells[3] == f"{_vi_percent(e['response_rate'], 0)} ({n}/{e['called']})"
        assert cells[4] == (
            f"{_vi_percent(e['rate'])} ({x}/{n}; {_vi_percent(low)}–{_vi_percent(high)})"
        )
        assert cells[5] == f"{_vi_percent(e['self_rate'])} ({e['self'][0]}/{e['self'][1]})"
        assert cells[6] == (
            f"{_points(d).replace('.', ',')} ({_points(d_low).replace('.', ',')} … "
            f"{_points(d_high).replace('.', ',')})"
        )
        assert cells[7] == ("Khác biệt vượt mức ngẫu nhiên" if e["differs"] else "Phù hợp")
    assert seen == set(expected)


def test_reports_without_a_draw_say_that_nothing_checks_the_ratings(
    frame, client, login, make_user
):
    from docx import Document
    from openpyxl import load_workbook

    login(make_user(role=Role.ADMIN))
    book = load_workbook(
        io.BytesIO(client.get("/dashboard/export.xlsx?period=2026-Q3&agency=HL&lang=vi").data)
    )
    assert book["Khảo sát gọi lại"]["A1"].value.startswith("Chưa chọn mẫu gọi lại cho kỳ này")
    doc = Document(io.BytesIO(client.get("/dashboard/export.docx?period=2026-Q3&agency=HL").data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "chưa rút mẫu khảo sát gọi lại, nên chưa có căn cứ" in text


def test_staff_record_a_call_on_the_page(frame, client, login, make_user):
    followup = draw("2026-Q3", 4, agency_code="XA", seed=5)
    item = followup.items[0]
    login(make_user(role=Role.ANALYST))
    page = client.get(f"/followup/{followup.id}")
    assert page.status_code == 200
    assert item.ticket.dossier_code in page.get_data(as_text=True)
    form_page = client.get(f"/followup/{followup.id}/items/{item.id}")
    assert form_page.status_code == 200
    token = csrf_token(form_page)
    bad = client.post(
        f"/followup/{followup.id}/items/{item.id}",
        data={"csrf_token": token, "outcome": "answered"},
    )
    assert bad.status_code == 400  # answered without a rating
    done = client.post(
        f"/followup/{followup.id}/items/{item.id}",
        data={"csrf_token": token, "outcome": "answered", "rating": "rat_hai_long"},
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(FollowupItem, item.id).outcome == "answered"
    assert client.get(f"/followup/{followup.id}/calls.csv").status_code == 200
    assert html(client.get("/followup/")).select_one("#draws") is not None


def test_leaders_and_other_agencies_cannot_see_a_draw(frame, client, login, make_user):
    _province, agencies, _desks, _returned = frame
    followup = draw("2026-Q3", 4, agency_code="XA", seed=5)
    login(make_user(role=Role.LEADER, agency=agencies["XA"], email="leader@example.org"))
    assert client.get(f"/followup/{followup.id}").status_code == 403
    assert client.get("/followup/").status_code == 403


def test_an_analyst_of_another_agency_gets_403(frame, client, login, make_user):
    _province, agencies, _desks, _returned = frame
    followup = draw("2026-Q3", 4, agency_code="XA", seed=5)
    login(make_user(role=Role.ANALYST, agency=agencies["XB"]))
    assert client.get(f"/followup/{followup.id}").status_code == 403
    assert client.get(f"/followup/{followup.id}/calls.csv").status_code == 403
    assert client.get("/followup/").status_code == 200


def test_the_cli_draws_and_writes_the_call_list(frame, runner, tmp_path):
    out = tmp_path / "calls.csv"
    result = runner.invoke(
        args=[
            "followup",
            "draw",
            "--period",
            "2026-Q3",
            "--size",
            "9",
            "--seed",
            "42",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "seed 42" in result.output
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 10
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupDraw)) == 1
    bad = runner.invoke(args=["followup", "draw", "--period", "2026-Q9", "--size", "9"])
    assert bad.exit_code != 0


def test_the_purge_takes_follow_up_entries_with_their_tickets(frame, runner):
    followup = draw("2026-Q3", 6, agency_code="XA", seed=2)
    answered = followup.items[0]
    record_outcome(answered, "answered", level="hai_long", actor="tests")
    db.session.execute(sa.update(Ticket).values(created_at=datetime(2026, 7, 1)))
    db.session.execute(sa.update(Response).values(occurred_at=datetime(2026, 7, 5)))
    db.session.commit()
    result = runner.invoke(args=["purge", "--before", "2026-08-01", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupItem)) == 0
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Response.channel == Channel.FOLLOWUP))
        == 0
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_an_administrator_draws_on_the_web_as_the_command_does(frame, client, login, make_user):
    _province, agencies, _desks, _returned = frame
    login(make_user(role=Role.ADMIN))
    page = client.get("/followup/")
    assert html(page).select_one("#new-draw form") is not None
    token = csrf_token(page)
    answer = client.post(
        "/followup/draws",
        data={
            "csrf_token": token,
            "period": "2026-Q3",
            "size": "12",
            "agency": str(agencies["XA"].id),
            "seed": "77",
        },
    )
    assert answer.status_code == 303
    web = db.session.scalar(sa.select(FollowupDraw).order_by(FollowupDraw.id.desc()))
    assert (web.period, web.size, web.seed, web.agency_id) == ("2026-Q3", 12, 77, agencies["XA"].id)
    again = draw("2026-Q3", 12, agency_code="XA", seed=77)
    assert [i.ticket_id for i in web.items] == [i.ticket_id for i in again.items]
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.action == "followup.draw")
    )
    bad = client.post(
        "/followup/draws", data={"csrf_token": token, "period": "2026-Q9", "size": "5"}
    )
    assert bad.status_code == 400
    assert html(bad).select_one("#draw-error") is not None
    without_csrf = client.post("/followup/draws", data={"period": "2026-Q3", "size": "5"})
    assert without_csrf.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupDraw)) == 2


def test_only_administrators_draw_on_the_web_within_their_agency(frame, client, login, make_user):
    _province, agencies, _desks, _returned = frame
    login(make_user(role=Role.ADMIN, agency=agencies["XB"], email="admin.xb@example.org"))
    page = client.get("/followup/")
    options = [o["value"] for o in html(page).select("#new-draw select option")]
    assert options == [str(agencies["XB"].id)]  # no "every agency", no other commune
    token = csrf_token(page)
    refused = client.post(
        "/followup/draws",
        data={
            "csrf_token": token,
            "period": "2026-Q3",
            "size": "5",
            "agency": str(agencies["XA"].id),
        },
    )
    assert refused.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupDraw)) == 0


def test_analysts_see_no_draw_form_and_cannot_post_one(frame, client, login, make_user):
    login(make_user(role=Role.ANALYST))
    page = client.get("/followup/")
    assert page.status_code == 200 and html(page).select_one("#new-draw") is None
    token = csrf_token(client.get("/dashboard"))
    refused = client.post(
        "/followup/draws", data={"csrf_token": token, "period": "2026-Q3", "size": "5"}
    )
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupDraw)) == 0
