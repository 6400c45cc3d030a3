"""The follow-up sample: a reproducible stratified draw of returned dossiers only, the call
list, recorded outcomes stored as channel `followup`, and the comparison with self-selected
ratings computed independently from planted rows, in the reports too."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis.followup import allocate
from survey.extensions import db
from survey.followup.models import FollowupItem
from survey.followup.service import (
    FollowupError,
    call_list,
    comparison,
    draw,
    record_outcome,
)
from survey.models import Channel, Response, Role
from tests.conftest import html


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

    # The official PDF (the same document, printed by LibreOffice): the table's numbers.
    if db.engine.dialect.name != "sqlite":
        return  # the printing does not depend on the database: checked once
    from survey.reporting import document
    from tests.conftest import missing_service

    if document.soffice() is None or shutil.which("pdftotext") is None:
        missing_service("LibreOffice and poppler-utils are needed to print and read the PDF")
    app.config["REPORT_PDF"] = "document"
    pdf = client.get("/dashboard/export.pdf?period=2026-Q3&agency=HL").data
    flat = " ".join(
        subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        )
        .stdout.decode()
        .split()
    )
    assert "VI. KIỂM TRA KẾT QUẢ BẰNG KHẢO SÁT GỌI LẠI" in flat
    for code, e in expected.items():
        x, n = e["followup"]
        low, high = e["interval"]
        d, d_low, d_high = (_points(v).replace(".", ",") for v in e["difference"])
        for part in (
            f"{_vi_percent(e['response_rate'], 0)} ({n}/{e['called']})",
            f"{_vi_percent(e['rate'])} ({x}/{n};",
            f"{_vi_percent(low)}–{_vi_percent(high)})",
            f"{_vi_percent(e['self_rate'])} ({e['self'][0]}/{e['self'][1]})",
            f"{d} ({d_low} …",
            f"… {d_high})",
        ):
            assert part in flat, (code, part)


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
