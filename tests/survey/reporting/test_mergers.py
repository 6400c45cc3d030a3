"""Continuity across mergers: a commune merged on 2025-07-01 shows a combined trend across the
date (its predecessors' responses before, its own after), and a 2025-Q2 report printed before
the merger reads the same after it (apart from the generation time)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import uuid
from datetime import date, datetime, timedelta

import docx
import sqlalchemy as sa

from survey import reporting
from survey.admin import tree as admin_tree
from survey.extensions import db
from survey.models import Kind, Level, Questionnaire, Response, Ticket, TreeMove
from survey.periods import parse_period
from survey.reporting import detail, dossier_splits, exports, mergers
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


PRINTED = datetime(2025, 7, 20, 2, 0)  # the generation time, the same for every print


def _printed(app, period: str) -> dict:
    """A report of `period` as JSON, CSV, the official document's text and every agency's
    rate tables (criteria, channels, desks...), generated at `PRINTED` (the generation date is
    the one part allowed to differ between two prints)."""
    with app.test_request_context():
        report = reporting.build_report(reporting.parse_options({"period": period}, None))
        report = dataclasses.replace(report, generated_at=PRINTED)
        data = exports.to_json(report)
        word = docx.Document(io.BytesIO(exports.export(report, "docx")))
        sections = detail.with_details(report, report.rows, "vi").details
    text = [p.text for p in word.paragraphs]
    text += [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    return {
        "json": json.loads(json.dumps(data)),
        "csv": exports.to_csv(report),
        "docx": text,
        "sections": repr(sections),
    }


def _json(app, period: str) -> dict:
    return _printed(app, period)["json"]


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
    before = _printed(app, "2025-Q2")

    # 1 July 2025: Xã An Bình is created and the two communes are merged into it.
    merged = make_agency("XAB", name="Xã An Bình", parent=province)
    merged.created_at = _local(2025, 7, 1, 0, 0)
    db.session.commit()
    admin_tree.merge([a, b], merged, merged_on=date(2025, 7, 1))
    db.session.commit()
    _add(desk_a, 6, 1, _local(2025, 7, 1, 0, 0))  # the desk now belongs to Xã An Bình
    _add(desk_b, 4, 4, _local(2025, 8, 3, 9))

    assert [p.code for p in mergers.predecessors(merged.id)] == ["XA", "XB"]
    after = _printed(app, "2025-Q2")
    # Byte for byte, apart from the generation time: the JSON, the CSV and the document.
    assert after["csv"] == before["csv"]
    assert after["json"] == before["json"]
    assert after["docx"] == before["docx"]
    assert any("Xã Bình" in line for line in after["docx"])
    assert not any("Xã An Bình" in line for line in after["docx"])

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
    # The period comparison over the combined history: Q2 is the predecessors' sum.
    assert row.history == "own" and row.previous_valid == 0
    with app.test_request_context():
        options = reporting.parse_options({"period": "2025-Q3", "history": "combined"}, None)
        joined = reporting.build_report(options).row("XAB")
    assert joined.history == "combined" and joined.history_agencies == ["XA", "XB"]
    assert (joined.previous_valid, joined.history_valid) == (10 + 5 + 4 + 4, 7 + 8)
    assert joined.previous_rate == (8 + 5 + 3 + 2) / 23
    assert joined.history_satisfied / joined.history_valid == (6 + 4) / 15
    assert joined.change == (6 + 4) / 15 - joined.previous_rate
    assert (joined.valid, joined.rate, joined.verdict) == (row.valid, row.rate, row.verdict)

    # The agency page offers the combined history and labels it.
    login(make_user())
    page = html(client.get("/dashboard/agency/XAB?period=2025-Q3&trend=month&history=combined"))
    note = page.select_one("#history-choice").get_text(" ", strip=True)
    assert "Xã An" in note and "Xã Bình" in note and "sáp nhập" in note
    rows = [r.get_text(" ", strip=True) for r in page.select("#trend tbody tr")]
    assert any(r.startswith("Tháng 5/2025 14") for r in rows)
    card = page.select_one("#combined-change").get_text(" ", strip=True)
    assert "lịch sử gộp" in card and "Quý 2/2025: 78,3% trên 23 phản hồi" in card
    assert "sáp nhập ngày 01/07/2025" in note
    assert (
        html(client.get("/dashboard/agency/XAB?period=2025-Q3")).select_one("#combined-change")
        is None
    )
    assert client.get("/dashboard/agency/XAB?period=2025-Q3&history=x").status_code == 400


def test_a_merger_recorded_later_with_an_earlier_date_dates_the_new_commune_from_the_merger(
    app, make_agency, make_desk
):
    """A province starting with hailong in 2026 records that its communes merged on
    1 July 2025: the successor, created in hailong today, exists in reports from that date."""
    province = make_agency("P", level=Level.PROVINCE)
    old = make_agency("XC", name="Xã Cũ", parent=province)
    _add(make_desk(agency=old), 3, 1, _local(2025, 5, 10, 9))
    before = _printed(app, "2025-Q2")
    new = make_agency("XM", name="Xã Mới", parent=province)  # created now, in 2026
    admin_tree.merge([old], new, merged_on=date(2025, 7, 1))
    db.session.commit()

    assert _printed(app, "2025-Q2") == before
    q2 = {row["code"]: row["active"] for row in _json(app, "2025-Q2")["agencies"]}
    assert q2 == {"P": True, "XC": True}
    q3 = {row["code"]: row["active"] for row in _json(app, "2025-Q3")["agencies"]}
    assert q3 == {"P": True, "XM": True}


def _tickets(desk, issued: int, used: int, at: datetime) -> None:
    for i in range(issued):
        db.session.add(
            Ticket(
                token_hash=uuid.uuid4().hex,
                dossier_code=f"H-{desk.code}-{at:%Y%m%d}-{i}",
                desk_id=desk.id,
                created_at=at,
                expires_at=at + timedelta(days=60),
                used_at=at + timedelta(hours=1) if i < used else None,
            )
        )
    db.session.commit()


def test_a_merger_of_communes_with_sub_agencies_and_desks_leaves_past_reports_as_they_were(
    app, make_agency, make_desk, login, client, make_user
):
    """The merger moves the communes' school and desks to the new commune; the 2025-Q2 report
    keeps them where they were then (the school under Xã An, pooled into its row; the desk's
    tickets under Xã An), and 2025-Q3 has them under Xã An Bình."""
    province = make_agency("P", level=Level.PROVINCE)
    a = make_agency("XA", name="Xã An", parent=province)
    b = make_agency("XB", name="Xã Bình", parent=province)
    school = make_agency(
        "TA", name="Trường Tiểu học An", parent=a, level=Level.SERVICE_UNIT, kind=Kind.EDUCATION
    )
    clinic = make_agency(
        "YB", name="Trạm Y tế Bình", parent=b, level=Level.SERVICE_UNIT, kind=Kind.HEALTH
    )
    desk_a, desk_b = make_desk(agency=a), make_desk(agency=b)
    desk_school, desk_clinic = make_desk(agency=school), make_desk(agency=clinic)
    _add(desk_a, 8, 2, _local(2025, 5, 10, 9))
    _add(desk_b, 3, 1, _local(2025, 5, 20, 9))
    _add(desk_school, 6, 3, _local(2025, 6, 14, 23, 59))
    _add(desk_clinic, 2, 2, _local(2025, 6, 30, 23, 59))
    _tickets(desk_a, 12, 7, _local(2025, 6, 2, 8))
    _tickets(desk_school, 5, 1, _local(2025, 6, 30, 23, 0))
    returned = db.session.scalars(sa.select(Ticket).where(Ticket.desk_id == desk_a.id)).all()
    for ticket in returned[:3]:  # returned in June, two of them on time
        ticket.due_date, ticket.returned_date = date(2025, 6, 10), date(2025, 6, 9)
    returned[2].returned_date = date(2025, 6, 12)
    db.session.commit()

    def _on_time(code: str) -> tuple[int, int]:
        with app.test_request_context():
            row = reporting.report_for(
                reporting.parse_options({"period": "2025-Q2", "agency": code}, None), None
            ).rows[0]
            assert row.code == code
            found = dossier_splits.dossier_splits(
                row.id,
                mergers.period_subtree(row.id, parse_period("2025-Q2")),
                parse_period("2025-Q2"),
            )
        return found.returned, found.returned_on_time

    assert _on_time("XA") == (3, 2)
    before = _printed(app, "2025-Q2")
    q2 = {row["code"]: row for row in before["json"]["agencies"]}
    assert q2["XA"]["valid"] == 10 + 9 and q2["TA"]["parent_code"] == "XA"
    assert q2["XA"]["tickets_issued"] == 12 + 5 and "XAB" not in q2

    merged = make_agency("XAB", name="Xã An Bình", parent=province)
    merged.created_at = _local(2025, 7, 1, 0, 0)
    db.session.commit()
    summary = admin_tree.merge([a, b], merged, merged_on=date(2025, 7, 1))
    db.session.commit()
    assert (summary.desks, summary.children) == (2, 2)
    assert db.session.get(type(school), school.id).parent_id == merged.id  # today's tree
    moves = db.session.scalars(sa.select(TreeMove).order_by(TreeMove.id)).all()
    assert {(m.desk_id or m.agency_id, m.from_agency_id) for m in moves} == {
        (desk_a.id, a.id),
        (desk_b.id, b.id),
        (school.id, a.id),
        (clinic.id, b.id),
    }
    _add(desk_school, 4, 0, _local(2025, 7, 1, 0, 0))
    _tickets(desk_a, 3, 3, _local(2025, 7, 2, 8))

    after = _printed(app, "2025-Q2")
    assert after["csv"] == before["csv"]
    assert after["json"] == before["json"]
    assert after["docx"] == before["docx"]
    assert after["sections"] == before["sections"]
    assert _on_time("XA") == (3, 2)  # the desk's returned dossiers, under its agency of then
    # The agency page of a past period shows the agency's subtree of the time.
    login(make_user())
    page = html(client.get("/dashboard/agency/XA?period=2025-Q2"))
    desks = [r.get_text(" ", strip=True) for r in page.select("#desk-split tbody tr")]
    assert len(desks) == 2

    q3 = {row["code"]: row for row in _json(app, "2025-Q3")["agencies"]}
    assert q3["TA"]["parent_code"] == "XAB" and q3["YB"]["parent_code"] == "XAB"
    assert q3["XAB"]["valid"] == 4 and q3["XAB"]["tickets_issued"] == 3
    assert "XA" not in q3 and "XB" not in q3


def test_the_combined_history_reaches_every_channel_and_leaves_past_reports_alone(
    app, make_agency, make_desk, login, client, make_user, runner, tmp_path
):
    """history=combined: the dashboard table, the CSV, the JSON of the API and of the CLI
    compare the merged commune with its predecessors' previous period, labelled; the
    default stays per agency, and the 2025-Q2 report is the same with either history."""
    from survey.credentials import issue_api_key

    province = make_agency("P", level=Level.PROVINCE)
    a = make_agency("XA", name="Xã An", parent=province)
    b = make_agency("XB", name="Xã Bình", parent=province)
    desk_a, desk_b = make_desk(agency=a), make_desk(agency=b)
    _add(desk_a, 9, 1, _local(2025, 5, 10, 9))
    _add(desk_b, 6, 4, _local(2025, 6, 10, 9))
    q2_own = _json(app, "2025-Q2")
    merged = make_agency("XAB", name="Xã An Bình", parent=province)
    merged.created_at = _local(2025, 7, 1, 0, 0)
    db.session.commit()
    admin_tree.merge([a, b], merged, merged_on=date(2025, 7, 1))
    db.session.commit()
    _add(desk_a, 12, 8, _local(2025, 8, 3, 9))

    with app.test_request_context():
        options = reporting.parse_options({"period": "2025-Q2", "history": "combined"}, None)
        q2_combined = exports.to_json(reporting.build_report(options))
    for row_own, row_combined in zip(q2_own["agencies"], q2_combined["agencies"], strict=True):
        assert row_combined == {**row_own, "history": "own"} == row_own

    login(make_user())
    own_page = html(client.get("/dashboard?period=2025-Q3"))
    assert own_page.select_one('tr[data-code="XAB"] .combined-history') is None
    page = html(client.get("/dashboard?period=2025-Q3&history=combined"))
    label = page.select_one('tr[data-code="XAB"] .combined-history').get_text(" ", strip=True)
    assert label == "lịch sử gộp, cùng XA, XB"
    assert page.select_one("#history").find("option", selected=True)["value"] == "combined"
    csv = client.get("/dashboard/export.csv?period=2025-Q3&history=combined").data.decode()
    header, *lines = csv.lstrip("\ufeff").splitlines()
    line = next(r for r in lines if r.startswith("XAB,"))
    assert "Gộp với các đơn vị đã sáp nhập vào" in line and '"XA, XB"' in line

    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    api = client.get(
        "/api/v1/report?period=2025-Q3&history=combined",
        headers={"Authorization": f"Bearer {key}"},
    ).json
    out = tmp_path / "q3.json"
    result = runner.invoke(
        args=["report", "--period", "2025-Q3", "--format", "json", "--out", str(out)]
        + ["--history", "combined"]
    )
    assert result.exit_code == 0, result.output
    cli = json.loads(out.read_text())
    for data in (api, cli):
        row = next(r for r in data["agencies"] if r["code"] == "XAB")
        assert row["history"] == "combined" and row["history_agencies"] == ["XA", "XB"]
        assert (row["previous_valid"], row["previous_satisfied"]) == (20, 15)
        assert (row["history_valid"], row["history_satisfied"]) == (20, 12)
        assert row["change"] == 12 / 20 - 15 / 20
        assert (row["valid"], row["satisfied"]) == (20, 12)
        province_row = next(r for r in data["agencies"] if r["code"] == "P")
        assert province_row["history"] == "own" and province_row["previous_valid"] == 20
    bad = client.get(
        "/api/v1/report?period=2025-Q3&history=all", headers={"Authorization": f"Bearer {key}"}
    )
    assert bad.status_code == 400 and bad.json["field"] == "history"
