"""Continuity across mergers: a commune merged on 2025-07-01 shows a combined trend across the
date (its predecessors' responses before, its own after), and a 2025-Q2 report printed before
the merger reads the same after it (apart from the generation time)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from survey import reporting
from survey.admin import tree as admin_tree
from survey.extensions import db
from survey.models import Level, Questionnaire, Response
from survey.reporting import detail, exports, mergers
from tests.conftest import html


def _local(*args) -> datetime:
    return datetime(*args) - timedelta(hours=7)


def _add(desk, satisfied: int, unsatisfied: int, at: datetime) -> None:
    rows = []
    for happy in [True] * satisfied + [False] * unsatisfied:
        rid = uuid.uuid4()
        rows.append(
            {
                "id": rid,
                "desk_id": desk.id,
                "agency_id": desk.agency_id,
                "questionnaire_id": Questionnaire.default().id,
                "channel": "qr",
                "level": "hai_long" if happy else "khong_hai_long",
                "satisfied": happy,
                "occurred_at": at,
                "received_at": at,
                "status": "valid",
                "content_hash": hashlib.sha256(rid.bytes).hexdigest(),
            }
        )
    db.session.execute(sa.insert(Response), rows)
    db.session.commit()


def _json(app, period: str) -> dict:
    with app.test_request_context():
        data = exports.to_json(
            reporting.build_report(reporting.parse_options({"period": period}, None))
        )
    data.pop("generated_at")
    return json.loads(json.dumps(data))


def test_a_merged_commune_has_its_predecessors_history_and_past_reports_stay(
    app, make_agency, make_desk, login, client, make_user
):
    province = make_agency("P", level=Level.PROVINCE)
    a = make_agency("XA", name="Xã An", parent=province)
    b = make_agency("XB", name="Xã Bình", parent=province)
    desk_a, desk_b = make_desk(agency=a), make_desk(agency=b)
    _add(desk_a, 8, 2, _local(2025, 5, 10, 9))
    _add(desk_b, 3, 1, _local(2025, 5, 20, 9))
    _add(desk_a, 5, 0, _local(2025, 6, 30, 23, 59))
    _add(desk_b, 2, 2, _local(2025, 6, 12, 9))
    before = _json(app, "2025-Q2")

    # 1 July 2025: Xã An Bình is created and the two communes are merged into it.
    merged = make_agency("XAB", name="Xã An Bình", parent=province)
    merged.created_at = _local(2025, 7, 1, 0, 0)
    db.session.commit()
    admin_tree.merge([a, b], merged)
    db.session.commit()
    _add(desk_a, 6, 1, _local(2025, 7, 1, 0, 0))  # the desk now belongs to Xã An Bình
    _add(desk_b, 4, 4, _local(2025, 8, 3, 9))

    assert [p.code for p in mergers.predecessors(merged.id)] == ["XA", "XB"]
    assert _json(app, "2025-Q2") == before  # byte for byte, apart from the generation time

    with app.test_request_context():
        report = reporting.build_report(reporting.parse_options({"period": "2025-Q3"}, None))
        row = report.row("XAB")
        own = detail.agency_detail(report, row, "month", "vi")
        combined = detail.agency_detail(report, row, "month", "vi", history="combined")
    assert combined.history == "combined" and own.history == "own"
    months = {b.key: c for b, c in zip(combined.trend_buckets, combined.trend_counts, strict=True)}
    # Before the merger: the sum of the predecessors; after it: the commune's own.
    assert months["2025-05"] == (10 + 4, 8 + 3)
    assert months["2025-06"] == (5 + 4, 5 + 2)
    assert months["2025-07"] == (7, 6) and months["2025-08"] == (8, 4)
    own_months = dict(zip([b.key for b in own.trend_buckets], own.trend_counts, strict=True))
    assert "2025-06" not in own_months or own_months["2025-06"] == (0, 0)

    # The agency page offers the combined history and labels it.
    login(make_user())
    page = html(client.get("/dashboard/agency/XAB?period=2025-Q3&trend=month&history=combined"))
    note = page.select_one("#history-choice").get_text(" ", strip=True)
    assert "Xã An" in note and "Xã Bình" in note and "sáp nhập" in note
    rows = [r.get_text(" ", strip=True) for r in page.select("#trend tbody tr")]
    assert any(r.startswith("Tháng 5/2025 14") for r in rows)
    assert client.get("/dashboard/agency/XAB?period=2025-Q3&history=x").status_code == 400
