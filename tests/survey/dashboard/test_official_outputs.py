"""Official outputs on the demo province: the counts by level and the indicator score,
recomputed here from the raw responses and answers, agree in every channel (API, CLI JSON,
CSV, Excel, dashboard table, agency pages, the official DOCX)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter

import pytest
import sqlalchemy as sa
from docx import Document
from openpyxl import load_workbook

from survey.credentials import issue_api_key
from survey.extensions import db
from survey.models import Agency, Answer, Questionnaire, Response, Status
from survey.periods import parse_period
from tests.conftest import html
from tests.survey.dashboard.conftest import QUARTER, rows_by_code

POINTS = {"rat_hai_long": 2, "hai_long": 1, "khong_hai_long": 0}


def _expected_class(total: float) -> str:
    # The provincial portal's classes, written out independently of the code under test.
    if total > 15:
        return "xuat_sac"
    if total >= 12:
        return "tot"
    if total >= 9:
        return "kha"
    if total >= 6:
        return "trung_binh"
    return "yeu"


def _raw_figures() -> dict[str, dict]:
    """{agency code: {"levels": Counter, "means": {criterion: mean}, "total": float}} from
    the rows of `response` and `answer`, pooled over each agency's subtree, in Python."""
    low, high = parse_period(QUARTER).utc_bounds()
    agencies = db.session.scalars(sa.select(Agency)).all()
    parent = {a.id: a.parent_id for a in agencies}
    default = Questionnaire.default()
    criteria = default.criterion_codes()

    def lineage(agency_id):
        while agency_id is not None:
            yield agency_id
            agency_id = parent[agency_id]

    levels: dict[int, Counter] = {a.id: Counter() for a in agencies}
    answers: dict[int, dict[str, list[int]]] = {a.id: {c: [] for c in criteria} for a in agencies}
    responses = db.session.execute(
        sa.select(Response.id, Response.agency_id, Response.level, Response.questionnaire_id)
        .where(Response.occurred_at >= low, Response.occurred_at < high)
        .where(Response.status == Status.VALID)
    ).all()
    by_id = {r.id: r for r in responses}
    for r in responses:
        for a in lineage(r.agency_id):
            levels[a][r.level] += 1
    for answer in db.session.scalars(sa.select(Answer)):
        r = by_id.get(answer.response_id)
        if r is None or r.questionnaire_id != default.id:
            continue
        for a in lineage(r.agency_id):
            answers[a][answer.criterion].append(POINTS[answer.level])
    found = {}
    for agency in agencies:
        means = {c: (sum(v) / len(v) if v else None) for c, v in answers[agency.id].items()}
        total = sum(means.values()) if all(m is not None for m in means.values()) else None
        found[agency.code] = {"levels": levels[agency.id], "means": means, "total": total}
    return found


@pytest.fixture
def reader(app):
    _row, key = issue_api_key("Sở Nội vụ", ["reports:read"])
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_levels_and_points_recomputed_from_raw_answers_agree_in_every_channel(
    signed_in, reader, runner, tmp_path
):
    raw = _raw_figures()
    api = signed_in.get(f"/api/v1/report?period={QUARTER}", headers=reader).json
    agencies = {a["code"]: a for a in api["agencies"]}
    assert len(agencies) == 24
    scored = 0
    for code, row in agencies.items():
        expected = raw[code]
        assert row["levels"] == {
            k: expected["levels"].get(k, 0) for k in ("rat_hai_long", "hai_long", "khong_hai_long")
        }
        assert sum(row["levels"].values()) == row["valid"]
        assert row["levels"]["rat_hai_long"] + row["levels"]["hai_long"] == row["satisfied"]
        if row["valid"]:
            assert row["level_shares"]["hai_long"] == pytest.approx(
                row["levels"]["hai_long"] / row["valid"], abs=1e-6
            )
        if expected["total"] is None:
            assert row["points"] is None or row["points"]["total"] is None
            continue
        scored += 1
        points = row["points"]
        assert points["total"] == pytest.approx(expected["total"], abs=1e-6)
        assert points["class"] == _expected_class(expected["total"])
        assert points["maximum"] == 18
        assert points["low"] <= points["total"] <= points["high"]
        for criterion, mean in expected["means"].items():
            assert points["indicators"][criterion]["mean"] == pytest.approx(mean, abs=1e-6)
    assert scored >= 10
    for row in agencies.values():  # Đạt / Không đạt on the rate, beside the verdict
        if row["target"] is not None and row["valid"]:
            met = row["satisfied"] / row["valid"] >= row["target"] - 1e-12
            assert row["administrative_verdict"] == ("dat" if met else "khong_dat")
            disagree = (row["administrative_verdict"], row["verdict"]) not in {
                ("dat", "meets"),
                ("khong_dat", "below"),
            }
            assert (row["verdict_note"] is not None) == disagree
    assert any(r["verdict_note"] for r in agencies.values())
    assert api["summary"]["levels"] == agencies["DEMO"]["levels"]
    assert api["summary"]["points"] == agencies["DEMO"]["points"]

    # The CLI's JSON is the API's body.
    out = tmp_path / "q3.json"
    assert (
        runner.invoke(
            args=["report", "--period", QUARTER, "--format", "json", "--out", str(out)]
        ).exit_code
        == 0
    )
    cli = {a["code"]: a for a in json.loads(out.read_bytes())["agencies"]}
    for code, row in agencies.items():
        assert (cli[code]["levels"], cli[code]["points"]) == (row["levels"], row["points"])

    # CSV and Excel: the same counts, shares, score and class, in Vietnamese.
    body = signed_in.get(f"/dashboard/export.csv?period={QUARTER}")
    assert body.status_code == 200
    table = list(csv.reader(io.StringIO(body.get_data().decode("utf-8-sig"))))
    head = table[0]
    sheet = load_workbook(
        io.BytesIO(signed_in.get(f"/dashboard/export.xlsx?period={QUARTER}").get_data())
    ).worksheets[0]
    excel = [[c.value for c in r] for r in sheet.iter_rows()]
    assert excel[0] == head
    classes = {
        "xuat_sac": "Xuất sắc",
        "tot": "Tốt",
        "kha": "Khá",
        "trung_binh": "Trung bình",
        "yeu": "Yếu",
    }
    for line, cells in zip(table[1:], excel[1:], strict=True):
        row = agencies[line[0]]
        for label, key in (
            ("Rất hài lòng", "rat_hai_long"),
            ("Hài lòng", "hai_long"),
            ("Không hài lòng", "khong_hai_long"),
        ):
            column = head.index(f"{label}: số phiếu")
            assert int(line[column]) == row["levels"][key] == cells[column]
            share = line[head.index(f"{label}: tỷ lệ")]
            assert float(share) == pytest.approx(row["level_shares"][key], abs=1e-6)
        admin = line[head.index("Đánh giá hành chính (tỷ lệ so với chỉ tiêu)")]
        assert (
            admin
            == {"dat": "Đạt", "khong_dat": "Không đạt", None: ""}[row["administrative_verdict"]]
        )
        assert line[head.index("Lý do hai kết luận khác nhau")] == (row["verdict_note"] or "")
        total = line[head.index("Điểm chỉ số (trên 18)")]
        klass = line[head.index("Xếp loại điểm")]
        if row["points"] and row["points"]["total"] is not None:
            assert float(total) == pytest.approx(row["points"]["total"], abs=1e-6)
            assert cells[head.index("Điểm chỉ số (trên 18)")] == pytest.approx(float(total))
            assert klass == classes[row["points"]["class"]]
        else:
            assert total == "" and klass == ""

    # The dashboard: counts by level and the score with its class.
    page = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}"))
    for code, row in agencies.items():
        cell = page[code].select_one("td.levels").get_text()
        if row["valid"]:
            assert cell.replace(".", "").split(" / ") == [
                str(row["levels"][k]) for k in ("rat_hai_long", "hai_long", "khong_hai_long")
            ]
        admin = page[code].select_one("td.admin-verdict").get_text(" ", strip=True)
        if row["administrative_verdict"]:
            label = {"dat": "Đạt", "khong_dat": "Không đạt"}[row["administrative_verdict"]]
            assert admin == (label + (" " + row["verdict_note"] if row["verdict_note"] else ""))
        score = page[code].select_one("td.points").get_text(" ", strip=True)
        if row["points"] and row["points"]["total"] is not None:
            shown = f"{row['points']['total']:.1f}".replace(".", ",")
            assert score.startswith(shown) and classes[row["points"]["class"]] in score
    assert not math.isnan(api["summary"]["points"]["total"])

    # The official document: one table row per agency, in the API's order.
    word = Document(io.BytesIO(signed_in.get(f"/dashboard/export.docx?period={QUARTER}").data))
    lines = [[c.text for c in r.cells] for r in word.tables[1].rows[1:]]
    assert len(lines) == len(api["agencies"])
    for cells, row in zip(lines, api["agencies"], strict=True):
        assert cells[1].strip() == row["name"]
        assert cells[3:6] == [
            f"{row['levels'][k]:,}".replace(",", ".")
            for k in ("rat_hai_long", "hai_long", "khong_hai_long")
        ]
        admin = {"dat": "Đạt", "khong_dat": "Không đạt", None: "–"}
        assert cells[9] == admin[row["administrative_verdict"]]
        if row["points"] and row["points"]["total"] is not None:
            shown = f"{row['points']['total']:.2f}".replace(".", ",")
            assert cells[11] == f"{shown} ({classes[row['points']['class']]})"
        else:
            assert cells[11] == "–"

    # Agency pages: the counts by level, the administrative verdict and the score.
    scored_codes = [c for c, r in agencies.items() if r["points"] and r["points"]["total"]]
    for code in ["DEMO", scored_codes[-1]]:
        row = agencies[code]
        page = html(signed_in.get(f"/dashboard/agency/{code}?period={QUARTER}"))
        counts = page.select_one("#agency-levels").get_text(" ", strip=True)
        for label, key in (
            ("Rất hài lòng", "rat_hai_long"),
            ("Hài lòng", "hai_long"),
            ("Không hài lòng", "khong_hai_long"),
        ):
            assert f"{label}: {row['levels'][key]:,}".replace(",", ".") in counts
        admin = page.select_one("#agency-admin-verdict").get_text(strip=True)
        assert (
            admin
            == {"dat": "Đạt", "khong_dat": "Không đạt", None: "–"}[row["administrative_verdict"]]
        )
        score = page.select_one("#agency-points .value").get_text(" ", strip=True)
        shown = f"{row['points']['total']:.1f}".replace(".", ",")
        assert score.startswith(shown) and classes[row["points"]["class"]] in score
