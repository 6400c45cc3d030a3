"""The invariant of issue 13, as a property: one agency, one period, one set of options give one
n, rate, interval, target, verdict, responses needed and change verdict, on every channel
(table, summary, agency page, forest and funnel plot data, API JSON, CSV, Excel, the `report`
command, public page; the official DOCX and the PDF in a second test with fewer examples) and in every view (the full
table, `?agency=`, a verdict filter, an analyst and an API key limited to a subtree).

Hypothesis draws small provinces (random trees, kinds, targets at every scope, counts in the
period and the one before) and options (adjustment, confidence, method, what-if target). The
database is emptied between examples inside one test, so that it runs in seconds per backend.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from docx import Document
from flask import g
from flask_babel import gettext as _
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from survey import periods, reporting
from survey.credentials import issue_api_key
from survey.extensions import db
from survey.models import (
    Agency,
    ApiKey,
    Desk,
    Kind,
    Level,
    Questionnaire,
    Response,
    Role,
    Target,
    User,
)
from survey.reporting import formatting as fmt
from survey.reporting.columns import file_columns
from survey.reporting.document import VI
from survey.reporting.labels import CHANGE_LABELS, VERDICT_LABELS
from survey.scope import subtree_ids
from tests.conftest import PASSWORD, csrf_token, html, missing_service

FIELDS = ("valid", "satisfied", "target", "verdict", "responses_needed", "change_verdict")
NUMBERS = ("rate", "low", "high")
TARGETS = (0.6, 0.75, 0.8, 0.85, 0.9, 0.95)


@st.composite
def counts(draw):
    """Mostly rates near the targets, where adjustment and views could change a verdict."""
    valid = draw(st.sampled_from([0, 0, 3, 12, 30, 45, 60, 90]))
    rate = draw(st.sampled_from([0.5, 0.7, 0.8, 0.87, 0.93, 0.97, 1.0]))
    return valid, min(valid, max(0, round(valid * rate) + draw(st.integers(-1, 1))))


@st.composite
def provinces(draw):
    size = draw(st.integers(2, 8))
    return {
        "parents": [None] + [draw(st.integers(0, i - 1)) for i in range(1, size)],
        "kinds": [draw(st.sampled_from(list(Kind))) for _ in range(size)],
        "now": [draw(counts()) for _ in range(size)],
        "before": [draw(counts()) for _ in range(size)],
        "agency_targets": draw(
            st.dictionaries(st.integers(0, size - 1), st.sampled_from(TARGETS), max_size=3)
        ),
        "kind_targets": draw(
            st.dictionaries(st.sampled_from(list(Kind)), st.sampled_from(TARGETS), max_size=2)
        ),
        "options": draw(
            st.fixed_dictionaries(
                {
                    "adjust": st.sampled_from(["none", "holm", "fdr_bh"]),
                    "confidence": st.sampled_from(["90", "95", "99"]),
                    "method": st.sampled_from(["wilson", "jeffreys", "clopper_pearson"]),
                    "target": st.sampled_from([None, None, None, "70", "88"]),
                    "deff": st.sampled_from(["estimated", "none"]),
                }
            )
        ),
    }


class _Client:
    """A test client whose requests start with an empty `g`: the tests' app context is shared
    by every request, and Flask-Login and Flask-WTF cache the user and the CSRF token there,
    while two users are signed in here."""

    def __init__(self, client):
        self.client = client

    def get(self, *args, **kw):
        _forget()
        return self.client.get(*args, **kw)

    def post(self, *args, **kw):
        _forget()
        return self.client.post(*args, **kw)


def _forget():
    for name in list(g):
        g.pop(name)


def _sign_in(client, email: str):
    token = csrf_token(client.get("/auth/login"))
    response = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def _empty():
    db.session.execute(sa.update(ApiKey).values(agency_id=None))
    db.session.execute(sa.update(User).values(agency_id=None))
    db.session.execute(sa.delete(Response))
    db.session.execute(sa.delete(Desk))
    db.session.execute(sa.delete(Target).where(Target.scope != "all"))
    db.session.execute(sa.update(Agency).values(parent_id=None))
    db.session.execute(sa.delete(Agency))
    db.session.commit()
    for instance in list(db.session.identity_map.values()):  # ids are reused: forget them
        if isinstance(instance, Agency | Desk | Target):
            db.session.expunge(instance)


def _limit(model, row_id: int, agency_id: int | None):
    db.session.execute(sa.update(model).where(model.id == row_id).values(agency_id=agency_id))
    db.session.commit()


def _seed(province, period) -> list[Agency]:
    agencies = []
    for i, (parent, kind) in enumerate(zip(province["parents"], province["kinds"], strict=True)):
        agency = Agency(
            code=f"A{i}",
            name=f"Cơ quan {i}",
            parent=agencies[parent] if parent is not None else None,
            level=Level.PROVINCE if parent is None else Level.COMMUNE,
            kind=kind,
        )
        db.session.add(agency)
        agencies.append(agency)
    db.session.flush()
    questionnaire = Questionnaire.default()
    rows = []
    for agency, now, before in zip(agencies, province["now"], province["before"], strict=True):
        desk = Desk(agency=agency, code=f"D{agency.code}", name="Quầy 1")
        db.session.add(desk)
        db.session.flush()
        for (valid, satisfied), when in ((now, period), (before, period.previous())):
            # Two desk-days, the satisfied ratings first: clustered, so that the design
            # effects (deff=estimated) are above 1.
            first = when.utc_bounds()[0] + timedelta(days=20, hours=3)
            outcomes = [True] * satisfied + [False] * (valid - satisfied)
            for k, happy in enumerate(outcomes):
                at = first + timedelta(days=1 if 2 * k >= len(outcomes) else 0)
                rid = uuid.uuid4()
                rows.append(
                    {
                        "id": rid,
                        "desk_id": desk.id,
                        "agency_id": agency.id,
                        "questionnaire_id": questionnaire.id,
                        "channel": "qr",
                        "level": "hai_long" if happy else "khong_hai_long",
                        "satisfied": happy,
                        "occurred_at": at,
                        "received_at": at,
                        "status": "valid",
                        "content_hash": hashlib.sha256(rid.bytes).hexdigest(),
                    }
                )
    if rows:
        db.session.execute(sa.insert(Response), rows)
    first = date(2000, 1, 1)
    for index, rate in province["agency_targets"].items():
        db.session.add(Target(rate=rate, valid_from=first, scope="agency", agency=agencies[index]))
    for kind, rate in province["kind_targets"].items():
        db.session.add(Target(rate=rate, valid_from=first, scope="kind", kind=kind))
    db.session.commit()
    return agencies


def _same(found: dict, expected, where: str):
    for name in FIELDS:
        assert found[name] == getattr(expected, name), (where, expected.code, name)
    for name in NUMBERS:
        value, want = found[name], getattr(expected, name)
        assert (value is None) == (want is None), (where, expected.code, name)
        if want is not None:
            assert value == pytest.approx(want, abs=1e-6), (where, expected.code, name)


def _file_rows(table: list[list], columns) -> dict[str, dict]:
    verdicts = {str(v): k for k, v in VERDICT_LABELS.items()}
    changes = {str(v): k for k, v in CHANGE_LABELS.items()}
    keys = [c.key for c in columns]
    out = {}
    for values in table:
        row = dict(zip(keys, values, strict=True))
        row = {k: (None if v in ("", None) else v) for k, v in row.items()}
        for name in ("valid", "satisfied", "responses_needed"):
            row[name] = None if row[name] is None else int(row[name])
        for name in (*NUMBERS, "target"):
            row[name] = None if row[name] is None else float(row[name])
        row["verdict"] = verdicts[row["verdict"]]
        row["change_verdict"] = changes[row["change_verdict"]]
        out[row["code"]] = row
    return out


@pytest.fixture
def channels(app, make_user):
    """Signed-in clients: an administrator (whole province) and an analyst whose agency is set
    per example; and an API key whose agency is set per example."""
    admin = make_user(role=Role.ADMIN)
    analyst = make_user(role=Role.ANALYST)
    whole, limited = _Client(app.test_client()), _Client(app.test_client())
    _sign_in(whole, admin.email)
    _row, key = issue_api_key("tỉnh", ["reports:read"])
    limited_key, limited_secret = issue_api_key("xã", ["reports:read"])
    db.session.commit()
    analyst = {"email": analyst.email, "id": analyst.id}
    limited_key = limited_key.id
    _empty()
    return {
        "whole": whole,
        "limited": limited,
        "analyst": analyst,
        "key": {"Authorization": f"Bearer {key}"},
        "limited_key": limited_key,
        "limited_headers": {"Authorization": f"Bearer {limited_secret}"},
        "signed_in": [],
    }


#: Examples per backend (about 1.2 s each). The channels are compared with each other on one
#: backend, and their verdicts are computed in Python from the counts: the backend changes
#: only the SQL of the counts and of the desk-day clusters, which every example with ratings
#: runs whole. SQLite draws the spread of trees, targets and options (15 examples);
#: PostgreSQL (6) catches a channel whose SQL gives other counts on that dialect.
EXAMPLES = {"sqlite": 15, "postgresql": 6}


def test_every_channel_and_view_gives_one_verdict(app, channels, runner, tmp_path):
    @settings(
        max_examples=EXAMPLES[db.engine.dialect.name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(province=provinces(), pick=st.integers(0, 6))
    def check(province, pick):
        _every_channel_and_view_give_one_verdict(app, channels, runner, tmp_path, province, pick)

    check()


def _every_channel_and_view_give_one_verdict(app, channels, runner, tmp_path, province, pick):
    _empty()
    period = periods.last_closed_quarter()
    agencies = _seed(province, period)
    chosen = agencies[pick % len(agencies)]
    args = {"period": period.key, **{k: v for k, v in province["options"].items() if v}}
    app.config.update(PUBLIC_ADJUST=args["adjust"], PUBLIC_MIN_RESPONSES=0)

    with app.test_request_context():
        options = reporting.parse_options(args, period)
        full = reporting.report_for(options, None)
        rows = {r.code: r for r in full.rows}
        assert set(rows) == {a.code for a in agencies}
        # ?agency=: the row, and the summary, which is that row.
        alone = reporting.report_for(
            reporting.parse_options({**args, "agency": chosen.code}, period), None
        )
        _same(alone.rows[0].as_dict(), rows[chosen.code], "?agency= row")
        summary = alone.summary
        assert (summary.target, summary.verdict, summary.responses_needed) == (
            rows[chosen.code].target,
            rows[chosen.code].verdict,
            rows[chosen.code].responses_needed,
        )
        assert (summary.low, summary.high) == (rows[chosen.code].low, rows[chosen.code].high)
        # A scope limited to the chosen subtree, and a verdict filter.
        scoped = reporting.report_for(options, subtree_ids(chosen.id))
        for row in scoped.rows:
            _same(row.as_dict(), rows[row.code], "scope")
        verdict = rows[chosen.code].verdict
        filtered = reporting.report_for(
            reporting.parse_options({**args, "verdict": verdict}, period), None
        )
        assert chosen.code in {r.code for r in filtered.visible_rows()}
        for row in filtered.visible_rows():
            _same(row.as_dict(), rows[row.code], "verdict filter")
        # Each reporting unit is counted once.
        assert sum(full.summary.verdict_counts.values()) == sum(
            1 for r in full.rows if r.counted and r.verdict in full.summary.verdict_counts
        )
        columns = file_columns(full.scale)
        verdict_labels = {str(v): k for k, v in VERDICT_LABELS.items()}

    query = "&".join(f"{k}={v}" for k, v in args.items())
    whole = channels["whole"]
    # The dashboard's table (HTML) and the agency page.
    page = html(whole.get(f"/dashboard?{query}"))
    shown = {tr["data-code"]: tr["data-verdict"] for tr in page.select("#agencies tbody tr")}
    assert shown == ({} if full.is_empty else {code: r.verdict for code, r in rows.items()})
    agency_page = html(whole.get(f"/dashboard/agency/{chosen.code}?{query}"))
    badge = agency_page.select_one("#agency-verdict .badge")
    assert verdict_labels[badge.get_text(strip=True)] == rows[chosen.code].verdict
    # CSV and Excel, through the export route.
    response = whole.get(f"/dashboard/export.csv?{query}")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))[1:]
    with app.test_request_context():
        for code, found in _file_rows(table, columns).items():
            _same(found, rows[code], "CSV")
        sheet = load_workbook(io.BytesIO(whole.get(f"/dashboard/export.xlsx?{query}").data)).active
        table = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
        for code, found in _file_rows(table, columns).items():
            _same(found, rows[code], "Excel")
    # The forest plot's data (the table's rows, as drawn).
    response = whole.get(f"/dashboard/charts/forest.csv?{query}")
    assert response.status_code == 200
    drawn = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {d["code"] for d in drawn} == {c for c, r in rows.items() if r.valid > 0}
    for found in drawn:
        row = rows[found["code"]]
        assert (int(found["valid"]), int(found["satisfied"]), found["verdict"]) == (
            row.valid,
            row.satisfied,
            row.verdict,
        ), ("forest", row.code)
        for name in ("rate", "low", "high", "target"):
            want = getattr(row, name)
            value = None if found[name] == "" else float(found[name])
            assert (value is None) == (want is None), ("forest", row.code, name)
            if want is not None:
                assert value == pytest.approx(want, abs=1e-6), ("forest", row.code, name)
    # The funnel plot's data: each reporting unit once, in the table's order, with its row's
    # numbers (a unit's counts are its own desks') and the summary's target.
    response = whole.get(f"/dashboard/charts/funnel.csv?{query}")
    assert response.status_code == 200
    points = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    units = [r.code for r in full.rows if r.family == "unit" and r.valid > 0]
    assert [p["code"] for p in points] == (units if full.summary.target is not None else [])
    for point in points:
        row = rows[point["code"]]
        assert (int(point["valid"]), int(point["satisfied"])) == (row.valid, row.satisfied), (
            "funnel",
            row.code,
        )
        assert float(point["target"]) == pytest.approx(full.summary.target), ("funnel", row.code)
    # The `report` command (its JSON file), with the same options.
    out = tmp_path / "report.json"
    command = ["report", "--period", period.key, "--format", "json", "--out", str(out)]
    for name in ("confidence", "method", "adjust", "deff", "target"):
        if args.get(name):
            command += [f"--{name}", args[name]]
    result = runner.invoke(args=command)
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text(encoding="utf-8"))
    assert {a["code"] for a in body["agencies"]} == set(rows)
    for found in body["agencies"]:
        _same(found, rows[found["code"]], "CLI")
    # The API, for the whole province and for a key limited to the chosen subtree.
    body = whole.get(f"/api/v1/report?{query}", headers=channels["key"]).json
    assert {a["code"] for a in body["agencies"]} == set(rows)
    for found in body["agencies"]:
        _same(found, rows[found["code"]], "API")
    _limit(ApiKey, channels["limited_key"], chosen.id)
    body = whole.get(f"/api/v1/report?{query}", headers=channels["limited_headers"]).json
    for found in body["agencies"]:
        _same(found, rows[found["code"]], "API, limited key")
    # An analyst limited to the chosen subtree.
    _limit(User, channels["analyst"]["id"], chosen.id)
    limited = channels["limited"]
    if not channels["signed_in"]:
        _sign_in(limited, channels["analyst"]["email"])
        channels["signed_in"].append(True)
    page = html(limited.get(f"/dashboard?{query}"))
    shown = {tr["data-code"]: tr["data-verdict"] for tr in page.select("#agencies tbody tr")}
    assert shown == {code: rows[code].verdict for code in shown}
    assert shown or scoped.is_empty
    # The public page, when the options are its own (last quarter, 95%, Wilson, no what-if,
    # design effects estimated).
    if (
        args.get("confidence", "95") == "95"
        and args.get("method") == "wilson"
        and not args.get("target")
        and args.get("deff", "estimated") == "estimated"
    ):
        page = html(whole.get("/public/results"))
        for tr in page.select("#public-results tbody tr"):
            badge = tr.select_one(".verdict .badge")
            assert verdict_labels[badge.get_text(strip=True)] == rows[tr["data-code"]].verdict


# ---- the documents: the official DOCX and the PDF ------------------------------------------


def _docx_rows(data: bytes) -> dict[str, dict[str, str]]:
    """The official document's agency table: {agency name: {heading: cell text}}."""
    doc = Document(io.BytesIO(data))
    for table in doc.tables:
        headings = [cell.text.strip() for cell in table.rows[0].cells]
        if headings[:3] == ["TT", "Cơ quan, đơn vị", "Số phiếu hợp lệ"]:
            found = {}
            for row in table.rows[1:]:
                cells = [cell.text.strip() for cell in row.cells]
                found[cells[1]] = dict(zip(headings, cells, strict=True))
            return found
    raise AssertionError("the document has no agency table")


def _docx_expected(row) -> dict[str, str]:
    verdict = str(VERDICT_LABELS[row.verdict])
    if row.responses_needed and row.responses_needed > 0:
        verdict += f" (cần thêm {VI.integer(row.responses_needed)} phiếu)"
    return {
        "Số phiếu hợp lệ": VI.integer(row.valid),
        "Tỷ lệ hài lòng (khoảng tin cậy)": (
            f"{VI.percent(row.rate)} ({VI.percent(row.low)}–{VI.percent(row.high)})"
            if row.rate is not None
            else "–"
        ),
        "Chỉ tiêu": VI.percent(row.target, 0) if row.target is not None else "–",
        "Kết luận thống kê": verdict,
    }


def _pdf_pages(data: bytes, tmp_path) -> list[str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    return text.split("\f")


def _pdf_table_cells(row) -> list[str]:
    """The cells of `row` on the PDF's table page, as `survey.reporting.pdf` draws them."""
    return [
        row.name,
        fmt.integer(row.valid),
        fmt.percent(row.rate),
        f"{fmt.percent(row.low)}–{fmt.percent(row.high)}",
        fmt.percent(row.response_rate) + ("!" if row.low_response_rate else ""),
        str(VERDICT_LABELS[row.verdict]) + (" *" if row.small_sample else ""),
    ]


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    province=provinces(),
    pick=st.integers(0, 6),
    view=st.sampled_from(["full", "agency", "limited key"]),
)
def test_the_documents_give_the_same_verdicts_in_every_view(
    app, channels, tmp_path, province, pick, view
):
    """The official DOCX (python-docx) and the PDF (pdftotext) show each agency's n, rate,
    interval, target, verdict and responses needed as the table does, in a view drawn per
    example: the whole province, `?agency=`, or an API key limited to a subtree. A few
    examples only: each renders two documents with their charts."""
    if shutil.which("pdftotext") is None:
        missing_service("poppler-utils (pdftotext) is needed to read the PDF")
    _empty()
    period = periods.last_closed_quarter()
    agencies = _seed(province, period)
    chosen = agencies[pick % len(agencies)]
    args = {"period": period.key, **{k: v for k, v in province["options"].items() if v}}
    # The PDF drawn by the app (matplotlib); the official PDF is this DOCX printed by
    # LibreOffice (tests/survey/dashboard/test_official_document.py reads it).
    app.config.update(REPORT_PDF="analysis")

    with app.test_request_context():
        options = reporting.parse_options(args, period)
        rows = {r.code: r for r in reporting.report_for(options, None).rows}
        if view == "agency":
            shown = reporting.report_for(
                reporting.parse_options({**args, "agency": chosen.code}, period), None
            )
        elif view == "limited key":
            shown = reporting.report_for(options, subtree_ids(chosen.id))
        else:
            shown = reporting.report_for(options, None)
        visible = shown.visible_rows()
        expected_docx = {("   " * min(r.depth, 3) + r.name).strip(): r for r in visible}
        docx_cells = {name: _docx_expected(rows[r.code]) for name, r in expected_docx.items()}
        pdf_cells = [_pdf_table_cells(rows[r.code]) for r in visible]
        summary = shown.summary
        summary_lines = [
            str(
                _(
                    "Province-wide satisfaction rate: %(rate)s (interval %(low)s–%(high)s)",
                    rate=fmt.percent(summary.rate),
                    low=fmt.percent(summary.low),
                    high=fmt.percent(summary.high),
                )
            ),
            str(
                _(
                    "Target: %(target)s. Verdict: %(verdict)s.",
                    target=fmt.percent(summary.target),
                    verdict=VERDICT_LABELS[summary.verdict],
                )
            ),
        ]

    query = "&".join(f"{k}={v}" for k, v in args.items())
    whole = channels["whole"]
    if view == "limited key":
        _limit(ApiKey, channels["limited_key"], chosen.id)
        headers = channels["limited_headers"]
        docx = whole.get(f"/api/v1/report?{query}&format=docx", headers=headers)
        pdf = whole.get(f"/api/v1/report?{query}&format=pdf", headers=headers)
    else:
        query += f"&agency={chosen.code}" if view == "agency" else ""
        docx = whole.get(f"/dashboard/export.docx?{query}")
        pdf = whole.get(f"/dashboard/export.pdf?{query}")
    assert docx.status_code == pdf.status_code == 200, (docx.status_code, pdf.status_code)

    # The official DOCX: its agency table, row by row.
    found = _docx_rows(docx.data)
    assert set(found) == set(docx_cells), view
    for name, cells in docx_cells.items():
        for heading, text in cells.items():
            assert found[name][heading] == text, (view, name, heading)

    # The PDF: the summary page, then each agency's line on the table page.
    pages = _pdf_pages(pdf.data, tmp_path)
    if shown.is_empty:
        return
    flat = " ".join(pages[1].split())
    for line in summary_lines:
        assert " ".join(line.split()) in flat, (view, line)
    lines = [line.strip() for line in pages[2].splitlines()]
    for cells in pdf_cells:
        matches = [line for line in lines if re.split(r"\s{2,}", line)[0] == cells[0]]
        assert len(matches) == 1, (view, cells[0], lines)
        assert re.split(r"\s{2,}", matches[0]) == cells, (view, cells[0])
