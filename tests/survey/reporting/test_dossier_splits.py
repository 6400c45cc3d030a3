"""Splits by dossier on planted data: every number recomputed independently from the planted
rows (plain counting, statsmodels for the intervals)."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from survey.extensions import db
from survey.models import Agency, Channel, Level, Procedure, Ticket
from survey.periods import LOCAL_OFFSET, parse_period
from survey.reporting.dossier_splits import dossier_splits, many_dossier_splits
from survey.responses import Submission, record
from survey.scope import subtree_ids

PERIOD = parse_period("2026-Q3")
PROCEDURES = {
    "1.004227": ("Cấp bản sao trích lục hộ tịch", "Hộ tịch"),
    "1.001193": ("Đăng ký khai sinh", "Hộ tịch"),
    "2.000908": ("Chứng thực bản sao từ bản chính", "Chứng thực"),
    "1.000775": ("Cấp giấy phép xây dựng", "Xây dựng"),
}


@pytest.fixture
def planted(app, make_agency, make_desk):
    """A province with a commune and a department; tickets with known dates, ratings with
    known answers, kiosk ratings without a ticket, and rows outside the period or the tree."""
    rng = random.Random(15)
    province = make_agency(code="HL", level=Level.PROVINCE)
    commune = make_agency(code="XA", parent=province)
    other = make_agency(code="XB", parent=province)
    desks = [make_desk(agency=commune, code="Q1"), make_desk(agency=commune, code="Q2")]
    outside = make_desk(agency=other, code="Q9")
    for code, (name, field) in PROCEDURES.items():
        db.session.add(Procedure(province_id=province.id, code=code, name=name, field=field))
    db.session.commit()
    questionnaire = desks[0].current_questionnaire()
    planted_rows = []
    for i in range(400):
        desk = outside if i % 10 == 9 else desks[i % 2]
        created = datetime(2026, 6, 25) + timedelta(days=rng.randrange(110), hours=2)
        due = created.date() + timedelta(days=rng.choice([5, 10, 15]))
        returned = (
            due + timedelta(days=rng.choice([-3, -1, 0, 0, 1, 4])) if rng.random() < 0.85 else None
        )
        if rng.random() < 0.15:
            due = None  # no appointed date given
        procedure = rng.choice([*PROCEDURES, "9.999999", None])  # one code not on the list
        ticket = Ticket(
            token_hash=uuid.uuid4().hex,
            dossier_code=f"H-{i}",
            desk_id=desk.id,
            procedure=procedure,
            due_date=due,
            returned_date=returned,
            created_at=created,
            expires_at=created + timedelta(days=60),
        )
        db.session.add(ticket)
        db.session.flush()
        row = {
            "desk": desk,
            "created": created,
            "due": due,
            "returned": returned,
            "procedure": procedure,
            "used": False,
            "rated_at": None,
            "satisfied": None,
        }
        if rng.random() < 0.6:
            # Most rate after the return; some before it (a day after receipt).
            if returned is not None and rng.random() < 0.8:
                rated_at = datetime.combine(returned, datetime.min.time()) + timedelta(hours=3)
            else:
                rated_at = created + timedelta(days=1)
            late = returned is not None and due is not None and returned > due
            level = rng.choice(
                ["khong_hai_long", "hai_long", "hai_long"]
                if late
                else ["khong_hai_long", "hai_long", "rat_hai_long", "rat_hai_long", "hai_long"]
            )
            ticket.used_at = rated_at
            db.session.commit()
            record(
                Submission(
                    id=uuid.uuid4(),
                    desk=desk,
                    questionnaire=questionnaire,
                    channel=Channel.QR,
                    level=level,
                    occurred_at=rated_at,
                    dossier_code=ticket.dossier_code,
                    ticket_id=ticket.id,
                )
            )
            row.update(used=True, rated_at=rated_at, satisfied=level != "khong_hai_long")
        planted_rows.append(row)
    db.session.commit()
    for j in range(7):  # kiosk ratings: no ticket, no denominator
        record(
            Submission(
                id=uuid.uuid4(),
                desk=desks[0],
                questionnaire=questionnaire,
                channel=Channel.KIOSK,
                level="hai_long",
                occurred_at=datetime(2026, 8, 1 + j, 3),
            )
        )
    return commune, planted_rows


def _in_period(moment: datetime) -> bool:
    return PERIOD.start <= (moment + LOCAL_OFFSET).date() <= PERIOD.end


def _before_return(row) -> bool:
    return row["returned"] is None or (row["rated_at"] + LOCAL_OFFSET).date() < row["returned"]


def _wilson(x, n):
    return proportion_confint(x, n, alpha=0.05, method="wilson")


def _tally(rs) -> tuple[int, int]:
    return sum(r["satisfied"] for r in rs), len(rs)


def _expected(rows, code: str, before_return: str = "include") -> dict:
    """The splits of agency `code` (HL pools XA and XB), counted from the planted rows with
    statsmodels for the intervals: what every channel must show."""
    mine = [r for r in rows if code == "HL" or r["desk"].agency.code == code]
    rated = [r for r in mine if r["used"] and _in_period(r["rated_at"])]
    counted = [r for r in rated if before_return == "include" or not _before_return(r)]
    on_time = [r for r in counted if r["returned"] and r["due"] and r["returned"] <= r["due"]]
    late = [r for r in counted if r["returned"] and r["due"] and r["returned"] > r["due"]]
    x1, n1 = _tally(on_time)
    x2, n2 = _tally(late)
    d_low, d_high = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    returned = [
        r
        for r in mine
        if r["returned"] and r["due"] and PERIOD.start <= r["returned"] <= PERIOD.end
    ]
    returned_on_time = sum(r["returned"] <= r["due"] for r in returned)
    procedures, fields = {}, {}
    for r in counted:
        if r["procedure"]:
            x, n = procedures.get(r["procedure"], (0, 0))
            procedures[r["procedure"]] = (x + r["satisfied"], n + 1)
    for procedure, (x, n) in procedures.items():
        if procedure in PROCEDURES:
            f = PROCEDURES[procedure][1]
            fields[f] = (fields.get(f, (0, 0))[0] + x, fields.get(f, (0, 0))[1] + n)
    issued = [r for r in mine if _in_period(r["created"])]
    return {
        "early": sum(_before_return(r) for r in rated),
        "on_time": (x1, n1, *_wilson(x1, n1)),
        "late": (x2, n2, *_wilson(x2, n2)),
        "not_returned": len(counted) - n1 - n2,
        "difference": (x1 / n1 - x2 / n2, d_low, d_high),
        "on_time_rate": (
            returned_on_time,
            len(returned),
            *_wilson(returned_on_time, len(returned)),
        ),
        "procedures": {c: (x, n, *_wilson(x, n)) for c, (x, n) in procedures.items()},
        "fields": {f: (x, n, *_wilson(x, n)) for f, (x, n) in fields.items()},
        "issued": len(issued),
        "used": sum(r["used"] for r in issued),
        "kiosk": 7 if code in ("HL", "XA") else 0,
    }


@pytest.mark.parametrize("before_return", ["include", "exclude"])
def test_every_split_matches_the_planted_rows(planted, before_return):
    commune, rows = planted
    e = _expected(rows, "XA", before_return)
    result = dossier_splits(commune, subtree_ids(commune.id), PERIOD, before_return=before_return)

    assert result.before_return_responses == _expected(rows, "XA")["early"] > 0
    assert (result.on_time.satisfied, result.on_time.responses) == e["on_time"][:2]
    assert (result.late.satisfied, result.late.responses) == e["late"][:2]
    assert e["late"][1] >= 10 and e["on_time"][1] >= 30
    assert (result.on_time.low, result.on_time.high) == pytest.approx(e["on_time"][2:])
    assert (result.late.low, result.late.high) == pytest.approx(e["late"][2:])
    assert result.not_returned.responses == e["not_returned"]
    assert (
        result.difference.difference,
        result.difference.low,
        result.difference.high,
    ) == pytest.approx(e["difference"])

    # The on-time rate: dossiers (not ratings) returned in the period with a due date.
    assert (result.returned_on_time, result.returned) == e["on_time_rate"][:2]
    assert (result.on_time_rate.low, result.on_time_rate.high) == pytest.approx(
        e["on_time_rate"][2:]
    )

    # By procedure: every code, with the name from the province's list where known.
    got = {g.code: g for g in result.by_procedure}
    assert {c: (g.rate.satisfied, g.rate.responses) for c, g in got.items()} == {
        c: v[:2] for c, v in e["procedures"].items()
    }
    assert got["9.999999"].name is None and got["1.004227"].field == "Hộ tịch"
    for code, (_x, _n, low, high) in e["procedures"].items():
        assert (got[code].rate.low, got[code].rate.high) == pytest.approx((low, high))
    shrunk = [g.shrunk for g in result.by_procedure]
    assert shrunk == sorted(shrunk)  # the worst first
    assert {g.code: (g.rate.satisfied, g.rate.responses) for g in result.by_field} == {
        f: v[:2] for f, v in e["fields"].items()
    }

    # Response rates: tickets issued in the period and used.
    assert (result.issued, result.used) == (e["issued"], e["used"])
    assert result.response_rate == pytest.approx(result.used / result.issued)
    issued = [r for r in rows if r["desk"].agency_id == commune.id and _in_period(r["created"])]
    assert {d.code: d.issued for d in result.desks} == {
        code: sum(r["desk"].code == code for r in issued) for code in ("Q1", "Q2")
    }
    assert result.untracked == {"kiosk": 7}


def test_splits_read_for_many_subtrees_at_once_equal_each_read_alone(planted):
    """A file asks for the splits of every agency at once (`many_dossier_splits`, one read for
    all, summed per subtree): each must be what its agency page shows, read for it alone, with
    nothing of the other subtrees in it."""
    commune, rows = planted
    province = db.session.get(Agency, commune.parent_id)
    other = db.session.scalar(sa.select(Agency).where(Agency.code == "XB"))
    roots = [province, commune, other]
    together = many_dossier_splits([(a, subtree_ids(a.id)) for a in roots], PERIOD)
    alone = [dossier_splits(a, subtree_ids(a.id), PERIOD) for a in roots]
    assert together == alone
    for code, split in zip(("HL", "XA", "XB"), together, strict=True):
        e = _expected(rows, code)
        assert (split.on_time.satisfied, split.on_time.responses) == e["on_time"][:2], code
        assert (split.late.satisfied, split.late.responses) == e["late"][:2], code
        assert (split.returned_on_time, split.returned) == e["on_time_rate"][:2], code
        assert (split.issued, split.used) == (e["issued"], e["used"]), code
    assert together[2].issued > 0  # the other commune has its own tickets


def test_shrinkage_keeps_a_tiny_procedure_from_topping_the_worst_list(app, make_agency, make_desk):
    commune = make_agency(level=Level.PROVINCE)
    desk = make_desk(agency=commune)
    questionnaire = desk.current_questionnaire()
    plan = {"A": (0, 2), "B": (72, 100), "C": (84, 100), "D": (86, 100), "E": (88, 100)}
    i = 0
    for code, (x, n) in plan.items():
        for k in range(n):
            ticket = Ticket(
                token_hash=uuid.uuid4().hex,
                dossier_code=f"S-{i}",
                desk_id=desk.id,
                procedure=code,
                due_date=date(2026, 7, 10),
                returned_date=date(2026, 7, 9),
                created_at=datetime(2026, 7, 1),
                expires_at=datetime(2026, 9, 1),
                used_at=datetime(2026, 7, 10),
            )
            db.session.add(ticket)
            db.session.flush()
            record(
                Submission(
                    id=uuid.uuid4(),
                    desk=desk,
                    questionnaire=questionnaire,
                    channel=Channel.QR,
                    level="hai_long" if k < x else "khong_hai_long",
                    # Spread out, so that no burst rule flags them.
                    occurred_at=datetime(2026, 7, 10, 3) + timedelta(hours=3 * i),
                    ticket_id=ticket.id,
                )
            )
            i += 1
    result = dossier_splits(commune, {commune.id}, PERIOD)
    order = [g.code for g in result.by_procedure]
    assert order[0] == "B"  # 72% on 100 answers is worse evidence than 0% on 2
    assert result.by_procedure[order.index("A")].rate.rate == 0.0
    assert result.difference.difference is None  # nothing late: no difference
    assert result.on_time_rate.rate == 1.0 and result.returned == 402


def test_the_response_rate_warning_follows_the_setting(app, make_agency, make_desk):
    agency = make_agency()
    desk = make_desk(agency=agency)
    for i in range(20):
        db.session.add(
            Ticket(
                token_hash=uuid.uuid4().hex,
                dossier_code=f"R-{i}",
                desk_id=desk.id,
                created_at=datetime(2026, 8, 1),
                expires_at=datetime(2026, 9, 1),
                used_at=datetime(2026, 8, 2) if i < 3 else None,
            )
        )
    db.session.commit()
    result = dossier_splits(agency, {agency.id}, PERIOD)
    assert result.response_rate == pytest.approx(0.15) and not result.low_response
    app.config["RESPONSE_RATE_WARNING"] = 0.2
    assert dossier_splits(agency, {agency.id}, PERIOD).low_response


# ---- where the splits are shown: agency page, CSV, JSON report ------------------------------


def _split_keys(app) -> dict[str, str]:
    """{the "split" column's words, in Vietnamese and English: the split's code}."""
    from flask_babel import force_locale

    from survey.reporting.dossier_splits import SPLIT_LABELS

    found = {}
    with app.test_request_context():
        for locale in ("vi", "en"):
            with force_locale(locale):
                found.update({str(label): key for key, label in SPLIT_LABELS.items()})
    return found


def _same_rows(lines: list[dict], e: dict) -> None:
    """The rows of the splits' CSV or Excel sheet (by column key, "split" as its code) against
    the planted expectations of one agency."""
    found = {(line["split"], line["code"] or ""): line for line in lines}

    def same(key, expected):
        line = found[key]
        x, n, low, high = expected
        assert (int(line["base"]), int(line["counted"])) == (n, x), key
        assert (float(line["low"]), float(line["high"])) == pytest.approx((low, high), abs=1e-6)

    same(("on_time", ""), e["on_time"])
    same(("late", ""), e["late"])
    same(("on_time_rate", ""), e["on_time_rate"])
    assert int(found[("not_returned", "")]["base"]) == e["not_returned"]
    difference = found[("on_time_minus_late", "")]
    assert tuple(float(difference[k]) for k in ("rate", "low", "high")) == pytest.approx(
        e["difference"], abs=1e-6
    )
    assert {code for split, code in found if split == "procedure"} == set(e["procedures"])
    for code, expected in e["procedures"].items():
        same(("procedure", code), expected)
    assert {code for split, code in found if split == "field"} == set(e["fields"])
    for name, expected in e["fields"].items():
        same(("field", name), expected)
    uptake = found[("response_rate", "")]
    assert (int(uptake["base"]), int(uptake["counted"])) == (e["issued"], e["used"])
    assert float(uptake["rate"]) == pytest.approx(e["used"] / e["issued"], abs=1e-6)


#: The planted dossier codes (H-0 … H-399): no file of the report may carry one.
DOSSIER_CODE = re.compile(r"\bH-\d+\b")


def _vi(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + "%"


def _points(value: float, decimal: str = ".") -> str:
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return sign + f"{abs(value) * 100:.1f}".replace(".", decimal)


def _pdf_lines(e: dict) -> list[str]:
    """The sentences of an agency's dossier page in the analytic PDF (in Vietnamese: the test
    client's requests share one app context, and with it the first request's locale)."""
    x1, n1, l1, h1 = e["on_time"]
    x2, n2, l2, h2 = e["late"]
    d, d_low, d_high = (_points(v, ",") for v in e["difference"])
    k, n, low, high = e["on_time_rate"]
    lines = [
        f"Trả đúng hẹn: {_vi(x1 / n1)} ({x1}/{n1}), khoảng tin cậy {_vi(l1)}–{_vi(h1)}.",
        f"Trả trễ hẹn: {_vi(x2 / n2)} ({x2}/{n2}), khoảng tin cậy {_vi(l2)}–{_vi(h2)}.",
        f"Đúng hẹn trừ trễ hẹn: {d} điểm phần trăm (khoảng Newcombe từ {d_low} đến {d_high}).",
        f"Đang tính cả các đánh giá trước khi trả kết quả ({e['early']}).",
        f"Tỷ lệ trả đúng hẹn (chỉ số dịch vụ): {_vi(k / n)} ({k} trong {n} hồ sơ có ngày hẹn "
        f"trả đã trả kết quả trong kỳ), khoảng tin cậy {_vi(low)}–{_vi(high)}.",
        f"Tỷ lệ phản hồi của phiếu: {_vi(e['used'] / e['issued'])} ({e['used']} trong "
        f"{e['issued']} phiếu đã phát trong kỳ đã được sử dụng).",
    ]
    if e["not_returned"]:
        lines.append(
            f"Chưa trả kết quả, hoặc không có ngày hẹn trả: {e['not_returned']} phiếu đánh giá."
        )
    if e["kiosk"]:
        lines.append(
            f"Đánh giá không có mẫu số (không qua phiếu): Máy đánh giá tại quầy {e['kiosk']}."
        )
    return lines


def _docx_share(x: int, n: int, low=None, high=None) -> str:
    text = f"{_vi(x / n)} ({x}/{n})"
    return text + (f"\n{_vi(low)}–{_vi(high)}" if low is not None else "")


def test_every_channel_shows_the_splits_as_planted(planted, app, client, login, make_user):
    """The agency page, its CSV, the JSON report, the report's Excel file, the analytic PDF,
    the official document (DOCX) and its PDF: each against the splits counted from the
    planted rows. Each file is rendered once."""
    import csv
    import io
    import shutil
    import subprocess

    from docx import Document
    from openpyxl import load_workbook

    from survey.credentials import issue_api_key
    from survey.models import Role
    from survey.reporting import ReportOptions, build_report, document, pdf
    from survey.reporting import dossier_splits as module
    from tests.conftest import html, missing_service

    commune, rows = planted
    expected = {code: _expected(rows, code) for code in ("HL", "XA", "XB")}
    names = {code: f"Xã {code}" for code in ("HL", "XA", "XB")}
    order = dossier_splits(commune, subtree_ids(commune.id), PERIOD)
    login(make_user(role=Role.ADMIN))

    # The agency page.
    page = client.get(f"/dashboard/agency/{commune.code}?period=2026-Q3&lang=en")
    assert page.status_code == 200
    soup = html(page)
    section = soup.select_one("#dossiers")
    assert section is not None
    assert section.select_one("#response-rate") is not None
    procedures = soup.select("#by-procedure tbody tr")
    assert [r.select_one("code").get_text() for r in procedures] == [
        g.code for g in order.by_procedure
    ]
    assert "Newcombe" in soup.select_one("#on-time-difference").get_text()
    assert "before_return=exclude" in soup.select_one("#dossiers p.muted a")["href"]
    assert soup.select_one("#no-denominator").get_text().endswith(": 7")  # the 7 kiosk ratings
    excluded = client.get(
        f"/dashboard/agency/{commune.code}?period=2026-Q3&before_return=exclude&lang=en"
    )
    assert excluded.status_code == 200
    assert "before_return" not in html(excluded).select_one("#dossiers p.muted a")["href"]
    assert (
        client.get(f"/dashboard/agency/{commune.code}?period=2026-Q3&before_return=x").status_code
        == 400
    )

    # The page's CSV: headers and splits in words (read by key), the worst procedure first.
    splits_by_words = _split_keys(app)
    body = client.get(f"/dashboard/agency/{commune.code}/dossiers.csv?period=2026-Q3&lang=vi")
    assert body.status_code == 200
    table = list(csv.reader(io.StringIO(body.data.decode("utf-8-sig"))))
    assert not DOSSIER_CODE.search(body.data.decode("utf-8-sig"))
    assert table[0][:3] == ["Nhóm", "Mã", "Tên"]
    lines = [dict(zip(module.COLUMNS, line, strict=True)) for line in table[1:]]
    for line in lines:
        line["split"] = splits_by_words[line["split"]]
    _same_rows(lines, expected["XA"])
    assert [line["code"] for line in lines if line["split"] == "procedure"] == [
        g.code for g in order.by_procedure
    ]

    # The JSON report.
    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    dossiers = client.get(
        f"/api/v1/report?period=2026-Q3&agency={commune.code}",
        headers={"Authorization": f"Bearer {key}"},
    ).json["dossiers"]
    e = expected["XA"]
    assert dossiers["agency"] == commune.code
    assert (dossiers["on_time"]["satisfied"], dossiers["on_time"]["responses"]) == e["on_time"][:2]
    assert (dossiers["late"]["satisfied"], dossiers["late"]["responses"]) == e["late"][:2]
    assert (
        dossiers["on_time_minus_late"]["low"],
        dossiers["on_time_minus_late"]["high"],
    ) == pytest.approx(e["difference"][1:])
    assert (
        dossiers["on_time_rate"]["on_time"],
        dossiers["on_time_rate"]["returned"],
    ) == e["on_time_rate"][:2]
    assert {g["code"]: (g["satisfied"], g["responses"]) for g in dossiers["by_procedure"]} == {
        c: v[:2] for c, v in e["procedures"].items()
    }
    assert (
        dossiers["response_rate"]["tickets_issued"],
        dossiers["response_rate"]["tickets_used"],
    ) == (e["issued"], e["used"])

    # The report's Excel file: every agency of the report, the CSV's columns after the agency.
    book = load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx?period=2026-Q3").data))
    sheet = book["Theo hồ sơ"]
    assert not any(
        DOSSIER_CODE.search(str(value))
        for ws in book.worksheets
        for line in ws.iter_rows(values_only=True)
        for value in line
    )
    keys = ("agency_code", "agency", *module.COLUMNS)
    by_agency = {}
    for values in sheet.iter_rows(min_row=2, values_only=True):
        line = dict(zip(keys, ("" if v is None else v for v in values), strict=True))
        line["split"] = splits_by_words[line["split"]]
        by_agency.setdefault(line["agency_code"], []).append(line)
    assert list(by_agency) == ["HL", "XA", "XB"]  # in the table's order
    for code, e in expected.items():
        _same_rows(by_agency[code], e)

    # The analytic PDF: a dossier page after the page of each agency below target.
    app.config["REPORT_PDF"] = "analysis"
    with app.test_request_context():
        paged = [row.code for row in pdf.agency_page_rows(build_report(ReportOptions(PERIOD)))]
    assert paged and set(paged) <= {"XA", "XB"}
    if shutil.which("pdftotext"):
        data = client.get("/dashboard/export.pdf?period=2026-Q3&lang=vi").data
        text = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
        ).stdout.decode()
        pages = [" ".join(p.split()) for p in text.split("\f")]
        assert not DOSSIER_CODE.search(text)
        for code in paged:
            e = expected[code]
            found = [p for p in pages if f"{code} · Quý 3/2026 · Hồ sơ: trả kết quả" in p]
            assert len(found) == 1, code
            for line in _pdf_lines(e):
                assert line in found[0], (code, line)
            for name, (x, n, low, high) in [*e["procedures"].items(), *e["fields"].items()]:
                assert re.search(
                    rf"{re.escape(name)}\b.*? {n} {x} {re.escape(_vi(x / n))} "
                    rf"{re.escape(_vi(low))}–{re.escape(_vi(high))} ",
                    found[0],
                ), (code, name)
            # The response rate of each desk's tickets.
            desks = {r["desk"].code for r in rows if r["desk"].agency.code == code}
            for desk in desks:
                issued = [r for r in rows if r["desk"].code == desk and _in_period(r["created"])]
                used = sum(r["used"] for r in issued)
                line = f"{desk} – Quầy tiếp nhận số 1 {len(issued)} {used} "
                assert line + _vi(used / len(issued)) in found[0], (code, desk)

    # The official document: section VII, a row per agency, then the worst fields and
    # procedures (the Word table's cells as printed in the PDF too).
    doc = Document(io.BytesIO(client.get("/dashboard/export.docx?period=2026-Q3").data))
    paragraphs = [p.text for p in doc.paragraphs]
    assert not DOSSIER_CODE.search(
        "\n".join(paragraphs + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    )
    assert "VII. KẾT QUẢ THEO HỒ SƠ: TRẢ KẾT QUẢ ĐÚNG HẸN, THỦ TỤC, LĨNH VỰC" in paragraphs
    assert any(p.startswith("Các phiếu đánh giá qua phiếu khảo sát phát hành") for p in paragraphs)
    first = next(
        t
        for t in doc.tables
        if len(t.columns) > 2 and t.rows[0].cells[2].text.startswith("Hồ sơ trả đúng hẹn")
    )
    cells_by_agency = {r.cells[1].text.strip(): [c.text for c in r.cells] for r in first.rows[1:]}
    assert list(cells_by_agency) == [names[c] for c in ("HL", "XA", "XB")]
    printed = []
    for code, e in expected.items():
        cells = cells_by_agency[names[code]]
        d, d_low, d_high = e["difference"]
        uptake = _docx_share(e["used"], e["issued"])
        assert cells[2:] == [
            _docx_share(*e["on_time"]),
            _docx_share(*e["late"]),
            f"{_points(d, ',')}\n({_points(d_low, ',')} … {_points(d_high, ',')})",
            _docx_share(*e["on_time_rate"]),
            uptake + " (thấp)" if e["used"] / e["issued"] < 0.1 else uptake,
        ], code
        printed += [part for cell in cells[2:] for part in cell.split("\n")]
    second = next(
        t
        for t in doc.tables
        if len(t.columns) > 2 and t.rows[0].cells[2].text.startswith("Lĩnh vực (tỷ lệ")
    )
    ranked = {r.cells[1].text.strip(): [c.text for c in r.cells] for r in second.rows[1:]}
    assert list(ranked) == [names[c] for c in ("HL", "XA", "XB")]
    with app.test_request_context():
        report = build_report(ReportOptions(period=PERIOD))
    for code, e in expected.items():
        splits = dossier_splits(
            report.row(code).id, subtree_ids(report.row(code).id), PERIOD, locale="vi"
        )
        shown = document.WORST_SHOWN
        for column, groups, planted_groups in (
            (2, splits.by_field, e["fields"]),
            (3, splits.by_procedure, e["procedures"]),
        ):
            lines = ranked[names[code]][column].split("\n")
            for line, group in zip(lines, groups[:shown], strict=False):
                x, n, _low, _high = planted_groups[group.code]
                label = f"{group.code} {group.name}" if column == 3 and group.name else group.code
                assert line == f"{label}: {_vi(x / n)} ({x}/{n})", (code, line)
            assert len(lines) == min(len(groups), shown) + (len(groups) > shown)

    # Its PDF, printed by LibreOffice: the same cells.
    if db.engine.dialect.name != "sqlite":
        return  # the printing does not depend on the database: checked once
    if document.soffice() is None or shutil.which("pdftotext") is None:
        missing_service("LibreOffice and poppler-utils are needed to print and read the PDF")
    app.config["REPORT_PDF"] = "document"
    data = client.get("/dashboard/export.pdf?period=2026-Q3").data
    flat = " ".join(
        subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
        )
        .stdout.decode()
        .split()
    )
    assert "VII. KẾT QUẢ THEO HỒ SƠ: TRẢ KẾT QUẢ ĐÚNG HẸN, THỦ TỤC, LĨNH VỰC" in flat
    assert not DOSSIER_CODE.search(flat)
    for part in printed:
        assert part in flat, part
    # The agency table's response rates (section II), as planted.
    for code, numbers in _expected_uptake(rows).items():
        share = f"{_vi(numbers['rate'])} ({numbers['answered']}/{numbers['base']})"
        assert re.search(rf"{names[code]} .*?{re.escape(share)}", flat), code


def test_an_analyst_outside_the_agency_gets_no_splits(planted, client, login, make_user):
    commune, _rows = planted
    elsewhere = db.session.scalar(sa.select(Agency).where(Agency.code == "XB"))
    login(make_user(agency=elsewhere))
    response = client.get(f"/dashboard/agency/{commune.code}/dossiers.csv?period=2026-Q3")
    assert response.status_code in (403, 404)


# ---- response rates on every channel (issue 15, part 3) --------------------------------------


def _expected_uptake(rows, handled_q9: int | None = None) -> dict[str, dict]:
    """Tickets issued in the period and used, by agency code, counted from the planted rows
    (the 7 kiosk ratings of XA have no denominator); HL pools XA and XB. With `handled_q9`,
    the dossiers handled at XB's desk Q9 over the whole quarter: its denominator, and its
    valid ratings of the quarter (every channel) the numerator."""
    out = {}
    for code in ("XA", "XB"):
        issued = [r for r in rows if r["desk"].agency.code == code and _in_period(r["created"])]
        out[code] = {
            "issued": len(issued),
            "used": sum(r["used"] for r in issued),
            "handled": 0,
            "no_denominator": 7 if code == "XA" else 0,
        }
        out[code]["answered"], out[code]["base"] = out[code]["used"], out[code]["issued"]
    if handled_q9 is not None:
        rated = [
            r for r in rows if r["desk"].code == "Q9" and r["used"] and _in_period(r["rated_at"])
        ]
        out["XB"].update(handled=handled_q9, base=handled_q9, answered=len(rated))
    out["HL"] = {k: out["XA"][k] + out["XB"][k] for k in out["XA"]}
    for numbers in out.values():
        numbers["rate"] = numbers["answered"] / numbers["base"]
    return out


def _en_percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _dots(text: str) -> str:
    """The decimal comma as a point: the test client's requests share one app context, and
    with it `g`, where the first request's number symbols stay."""
    return text.replace(",", ".")


@pytest.mark.parametrize("counts", [False, True], ids=["tickets", "dossiers-handled"])
def test_response_rates_match_the_planted_rows_on_every_channel(
    planted, app, client, login, make_user, monkeypatch, tmp_path, runner, counts
):
    import csv
    import io
    import shutil
    import subprocess

    from docx import Document
    from openpyxl import load_workbook

    from survey import periods
    from survey.credentials import issue_api_key
    from survey.models import Role
    from survey.reporting import ReportOptions, build_report
    from survey.reporting.columns import file_columns
    from tests.conftest import html

    commune, rows = planted
    handled_q9 = None
    if counts:
        # The integrator reports Q9's dossiers month by month through the API, and Q1's for
        # July only, by an import: Q1's months do not cover the quarter, so Q1 keeps its
        # tickets as the denominator.
        _row, writer = issue_api_key("iGate", ["tickets:write"])
        db.session.commit()
        monthly = {"2026-07": 120, "2026-08": 95, "2026-09": 110}
        for month, n in monthly.items():
            answer = client.post(
                "/api/v1/dossier-counts",
                json={"desk": "Q9", "period": month, "handled": n},
                headers={"Authorization": f"Bearer {writer}"},
            )
            assert answer.status_code == 201, answer.json
        handled_q9 = sum(monthly.values())
        path = tmp_path / "counts.csv"
        path.write_text("desk_code,period,handled\nQ1,2026-07,80\n", encoding="utf-8")
        imported = runner.invoke(args=["import-dossier-counts", str(path)])
        assert imported.exit_code == 0, imported.output
    expected = _expected_uptake(rows, handled_q9)
    assert expected["XA"]["rate"] != expected["XB"]["rate"]
    # A warning level between the two agencies' rates: exactly one of them is low.
    warning = (expected["XA"]["rate"] + expected["XB"]["rate"]) / 2
    app.config["RESPONSE_RATE_WARNING"] = warning
    app.config["REPORT_PDF"] = "analysis"
    for numbers in expected.values():
        numbers["low"] = numbers["rate"] < warning
    assert {expected["XA"]["low"], expected["XB"]["low"]} == {True, False}

    # The report's rows and summary.
    with app.test_request_context():
        report = build_report(ReportOptions(period=PERIOD))
    for code, numbers in expected.items():
        row = report.row(code)
        assert (row.tickets_issued, row.tickets_used) == (numbers["issued"], numbers["used"])
        assert row.dossiers_handled == numbers["handled"]
        assert (row.response_answered, row.response_base) == (
            numbers["answered"],
            numbers["base"],
        )
        assert row.response_rate == pytest.approx(numbers["rate"])
        assert row.no_denominator == numbers["no_denominator"]
        assert row.low_response_rate == numbers["low"]
    assert report.summary.response_rate == pytest.approx(expected["HL"]["rate"])
    assert report.summary.no_denominator == 7

    # The splits of the agency page agree with the table.
    splits = dossier_splits(commune, subtree_ids(commune.id), PERIOD)
    assert (splits.issued, splits.used) == (expected["XA"]["issued"], expected["XA"]["used"])
    assert splits.low_response == expected["XA"]["low"]

    login(make_user(role=Role.ADMIN))
    # The dashboard's table: the rate, answered/out of, the warning, no denominator.
    page = html(client.get("/dashboard?period=2026-Q3&lang=en"))
    for code, numbers in expected.items():
        cell = page.select_one(f'#agencies tr[data-code="{code}"] td.uptake')
        text = _dots(cell.get_text(" ", strip=True))
        assert text.startswith(
            f"{_en_percent(numbers['rate'])} ({numbers['answered']}/{numbers['base']})"
        )
        assert (cell.select_one(".low-response") is not None) == numbers["low"]
        missing = cell.select_one(".no-denominator")
        assert (missing is not None) == bool(numbers["no_denominator"])
        if missing is not None:
            assert missing.get_text().split()[0] == str(numbers["no_denominator"])
    assert _dots(page.select_one("#uptake-rate").get_text(strip=True)) == _en_percent(
        expected["HL"]["rate"]
    )
    # The agency pages: the card, and the units under an agency.
    for code in ("XA", "XB"):
        agency_page = html(client.get(f"/dashboard/agency/{code}?period=2026-Q3&lang=en"))
        assert _dots(agency_page.select_one("#uptake-rate").get_text(strip=True)) == _en_percent(
            expected[code]["rate"]
        )
        assert (agency_page.select_one("#uptake-warning") is not None) == expected[code]["low"]
    units = html(client.get("/dashboard/agency/HL?period=2026-Q3&lang=en")).select(
        "#units tbody tr"
    )
    assert units and all(
        f"({expected[tr.select_one('a').get_text().strip()[-2:]]['answered']}/" in tr.get_text()
        for tr in units
        if tr.select_one("a").get_text().strip()[-2:] in expected
    )

    # CSV and Excel: the declared columns (read by key: the headers are translated).
    keys = [c.key for c in file_columns(report.scale)]
    body = client.get("/dashboard/export.csv?period=2026-Q3").data.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(body), fieldnames=keys))[1:]
    by_code = {line["code"]: line for line in table}
    assert set(by_code) == set(expected)
    low_words = {}
    for code, numbers in expected.items():
        line = by_code[code]
        assert int(line["tickets_issued"]) == numbers["issued"]
        assert int(line["tickets_used"]) == numbers["used"]
        assert int(line["dossiers_handled"]) == numbers["handled"]
        assert float(line["response_rate"]) == pytest.approx(numbers["rate"], abs=1e-6)
        low_words.setdefault(numbers["low"], set()).add(line["low_response_rate"])
        assert int(line["no_denominator"]) == numbers["no_denominator"]
    assert len(low_words[True]) == len(low_words[False]) == 1 != low_words[True] & low_words[False]
    book = load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx?period=2026-Q3").data))
    sheet = book.worksheets[0]
    for values in sheet.iter_rows(min_row=2, values_only=True):
        found = dict(zip(keys, values, strict=True))
        numbers = expected[found["code"]]
        assert found["tickets_issued"] == numbers["issued"]
        assert found["response_rate"] == pytest.approx(numbers["rate"], abs=1e-6)
    summary = [value for _label, value in book.worksheets[1].iter_rows(values_only=True)]
    assert round(expected["HL"]["rate"], 6) in [
        round(v, 6) for v in summary if isinstance(v, float)
    ]

    # Word: the table's column beside the rate, and a sentence of the body.
    doc = Document(io.BytesIO(client.get("/dashboard/export.docx?period=2026-Q3").data))
    agencies = doc.tables[1]
    assert agencies.rows[0].cells[7].text == "Tỷ lệ phản hồi"
    cells = {
        r.cells[1].text.strip(): r.cells[7].text for r in agencies.rows[1:] if len(r.cells) > 7
    }
    assert any(
        f"({expected['XB']['answered']}/{expected['XB']['base']})" in c for c in cells.values()
    )
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"({expected['HL']['answered']}/{expected['HL']['base']};" in text

    # The analytic PDF: the summary's sentence.
    if shutil.which("pdftotext"):
        pdf = client.get("/dashboard/export.pdf?period=2026-Q3&lang=en").data
        pdf_text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert re.search(
            rf"{re.escape(_en_percent(expected['HL']['rate']))} "
            rf"\({expected['HL']['answered']}\D+{expected['HL']['base']};",
            _dots(" ".join(pdf_text.split())),
        )

    # The API's JSON report.
    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    report_json = client.get(
        "/api/v1/report?period=2026-Q3", headers={"Authorization": f"Bearer {key}"}
    ).json
    for agency in report_json["agencies"]:
        numbers = expected[agency["code"]]
        assert (agency["tickets_issued"], agency["tickets_used"]) == (
            numbers["issued"],
            numbers["used"],
        )
        assert agency["response_rate"] == pytest.approx(numbers["rate"])
        assert agency["low_response_rate"] is numbers["low"]
        assert agency["no_denominator"] == numbers["no_denominator"]
        assert agency["dossiers_handled"] == numbers["handled"]
    assert report_json["summary"]["response_rate"]["rate"] == pytest.approx(expected["HL"]["rate"])
    assert report_json["summary"]["response_rate"]["warning_below"] == pytest.approx(warning)

    # The public page (the last closed quarter: the planted one).
    monkeypatch.setattr(periods, "last_closed_quarter", lambda today=None: PERIOD)
    public = html(client.get("/public/results?lang=en"))
    for code, numbers in expected.items():
        cell = public.select_one(f'#public-results tr[data-code="{code}"] td.uptake')
        assert _dots(cell.get_text(" ", strip=True)).startswith(
            f"{_en_percent(numbers['rate'])} ({numbers['answered']}/{numbers['base']})"
        )
        assert (cell.select_one(".low-response") is not None) == numbers["low"]
