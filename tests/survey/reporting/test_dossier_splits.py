"""Splits by dossier on planted data: every number recomputed independently from the planted
rows (plain counting, statsmodels for the intervals)."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from survey.extensions import db
from survey.models import Agency, Channel, Level, Procedure, Ticket
from survey.periods import LOCAL_OFFSET, parse_period
from survey.reporting.dossier_splits import dossier_splits
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


@pytest.mark.parametrize("before_return", ["include", "exclude"])
def test_every_split_matches_the_planted_rows(planted, before_return):
    commune, rows = planted
    mine = [r for r in rows if r["desk"].agency_id == commune.id]
    rated = [r for r in mine if r["used"] and _in_period(r["rated_at"])]
    early = [r for r in rated if _before_return(r)]
    counted = [r for r in rated if before_return == "include" or not _before_return(r)]
    result = dossier_splits(commune, subtree_ids(commune.id), PERIOD, before_return=before_return)

    assert result.before_return_responses == len(early) > 0

    def tally(rs):
        return sum(r["satisfied"] for r in rs), len(rs)

    on_time = [r for r in counted if r["returned"] and r["due"] and r["returned"] <= r["due"]]
    late = [r for r in counted if r["returned"] and r["due"] and r["returned"] > r["due"]]
    assert (result.on_time.satisfied, result.on_time.responses) == tally(on_time)
    assert (result.late.satisfied, result.late.responses) == tally(late)
    assert len(late) >= 10 and len(on_time) >= 30
    assert (result.on_time.low, result.on_time.high) == pytest.approx(_wilson(*tally(on_time)))
    low, high = confint_proportions_2indep(
        *tally(on_time), *tally(late), method="newcomb", compare="diff"
    )
    expected = tally(on_time)[0] / len(on_time) - tally(late)[0] / len(late)
    assert result.difference.difference == pytest.approx(expected)
    assert (result.difference.low, result.difference.high) == pytest.approx((low, high))

    # The on-time rate: dossiers (not ratings) returned in the period with a due date.
    returned = [
        r
        for r in mine
        if r["returned"] and r["due"] and PERIOD.start <= r["returned"] <= PERIOD.end
    ]
    assert result.returned == len(returned)
    assert result.returned_on_time == sum(r["returned"] <= r["due"] for r in returned)

    # By procedure: every code, with the name from the province's list where known.
    codes = {}
    for r in counted:
        if r["procedure"]:
            x, n = codes.get(r["procedure"], (0, 0))
            codes[r["procedure"]] = (x + r["satisfied"], n + 1)
    got = {g.code: g for g in result.by_procedure}
    assert {c: (g.rate.satisfied, g.rate.responses) for c, g in got.items()} == codes
    assert got["9.999999"].name is None and got["1.004227"].field == "Hộ tịch"
    for code, (x, n) in codes.items():
        assert (got[code].rate.low, got[code].rate.high) == pytest.approx(_wilson(x, n))
    shrunk = [g.shrunk for g in result.by_procedure]
    assert shrunk == sorted(shrunk)  # the worst first
    fields = {}
    for code, (x, n) in codes.items():
        if code in PROCEDURES:
            f = PROCEDURES[code][1]
            fields[f] = (fields.get(f, (0, 0))[0] + x, fields.get(f, (0, 0))[1] + n)
    assert {g.code: (g.rate.satisfied, g.rate.responses) for g in result.by_field} == fields

    # Response rates: tickets issued in the period and used.
    issued = [r for r in mine if _in_period(r["created"])]
    assert result.issued == len(issued)
    assert result.used == sum(r["used"] for r in issued)
    assert result.response_rate == pytest.approx(result.used / result.issued)
    assert {d.code: d.issued for d in result.desks} == {
        code: sum(r["desk"].code == code for r in issued) for code in ("Q1", "Q2")
    }
    assert result.untracked == {"kiosk": 7}


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


def test_the_agency_page_the_csv_and_the_api_show_the_same_splits(
    planted, client, login, make_user
):
    from survey.credentials import issue_api_key
    from survey.models import Role
    from tests.conftest import html

    commune, _rows = planted
    expected = dossier_splits(commune, subtree_ids(commune.id), PERIOD)
    login(make_user(role=Role.ADMIN))
    page = client.get(f"/dashboard/agency/{commune.code}?period=2026-Q3&lang=en")
    assert page.status_code == 200
    soup = html(page)
    section = soup.select_one("#dossiers")
    assert section is not None
    assert section.select_one("#response-rate") is not None
    rows = soup.select("#by-procedure tbody tr")
    assert [r.select_one("code").get_text() for r in rows] == [
        g.code for g in expected.by_procedure
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

    csv_response = client.get(f"/dashboard/agency/{commune.code}/dossiers.csv?period=2026-Q3")
    assert csv_response.status_code == 200
    text = csv_response.data.decode("utf-8-sig")
    lines = {line.split(",")[0] + ":" + line.split(",")[1] for line in text.splitlines()[1:]}
    assert "on_time:" in lines and "late:" in lines
    assert {f"procedure:{g.code}" for g in expected.by_procedure} <= lines

    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    body = client.get(
        f"/api/v1/report?period=2026-Q3&agency={commune.code}",
        headers={"Authorization": f"Bearer {key}"},
    ).json
    dossiers = body["dossiers"]
    assert dossiers["agency"] == commune.code
    assert dossiers["on_time"]["responses"] == expected.on_time.responses
    assert dossiers["late"]["satisfied"] == expected.late.satisfied
    assert [g["code"] for g in dossiers["by_procedure"]] == [g.code for g in expected.by_procedure]
    assert dossiers["response_rate"]["tickets_issued"] == expected.issued

    # The report's Excel file: a sheet with the same rows as the CSV, for the report's agency.
    import io

    from openpyxl import load_workbook

    book = load_workbook(
        io.BytesIO(client.get(f"/dashboard/export.xlsx?period=2026-Q3&agency={commune.code}").data)
    )
    sheet = book.worksheets[-1]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["split", "code"]
    found = {}
    for values in sheet.iter_rows(min_row=2, values_only=True):
        line = dict(zip(header, values, strict=True))
        found[(line["split"], line["code"] or "")] = line

    def same(key, rate):
        line = found[key]
        assert (line["responses"], line["satisfied"]) == (rate.responses, rate.satisfied), key
        assert (line["low"], line["high"]) == pytest.approx((rate.low, rate.high), abs=1e-6)

    same(("on_time", ""), expected.on_time)
    same(("late", ""), expected.late)
    same(("on_time_rate", ""), expected.on_time_rate)
    difference = found[("on_time_minus_late", "")]
    assert (difference["rate"], difference["low"], difference["high"]) == pytest.approx(
        (expected.difference.difference, expected.difference.low, expected.difference.high),
        abs=1e-6,
    )
    procedures = [code for split, code in found if split == "procedure"]
    assert procedures == [g.code for g in expected.by_procedure]  # the worst first
    for group in expected.by_procedure:
        same(("procedure", group.code), group.rate)
    assert (
        found[("response_rate", "")]["responses"],
        found[("response_rate", "")]["satisfied"],
    ) == (
        expected.issued,
        expected.used,
    )


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
    import re
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
