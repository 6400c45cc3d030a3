"""The invariant of issue 13, as a property: one agency, one period, one set of options give one
n, rate, interval, target, verdict, responses needed and change verdict, on every channel
(table, summary, agency page, API JSON, CSV, Excel, the `report` command, public page) and in every view (the full
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
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import g
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
from survey.reporting.columns import file_columns
from survey.reporting.labels import CHANGE_LABELS, VERDICT_LABELS
from survey.scope import subtree_ids
from tests.conftest import PASSWORD, csrf_token, html

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
            at = when.utc_bounds()[0] + timedelta(days=20, hours=3)
            for happy in [True] * satisfied + [False] * (valid - satisfied):
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


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(province=provinces(), pick=st.integers(0, 6))
def test_every_channel_and_view_gives_one_verdict(app, channels, runner, tmp_path, province, pick):
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
    # The public page, when the options are its own (last quarter, 95%, Wilson, no what-if).
    if (
        args.get("confidence", "95") == "95"
        and args.get("method") == "wilson"
        and not args.get("target")
    ):
        page = html(whole.get("/public/results"))
        for tr in page.select("#public-results tbody tr"):
            badge = tr.select_one(".verdict .badge")
            assert verdict_labels[badge.get_text(strip=True)] == rows[tr["data-code"]].verdict
