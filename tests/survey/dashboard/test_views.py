"""The dashboard's agency table and summary on the demo province."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Agency, Response, Status
from survey.periods import parse_period
from tests.conftest import html, text_of
from tests.survey.dashboard.conftest import QUARTER, rows_by_code

START, END = parse_period(QUARTER).utc_bounds()


def _percent(text: str) -> float:
    return float(text.strip().rstrip("%").replace(".", "").replace(",", "."))


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(f"/dashboard?period={QUARTER}")
    assert response.status_code == 302
    assert "/auth/login" in response.location


def test_signing_in_lands_on_the_dashboard(client, login, analyst):
    response = login(analyst)
    assert response.location.endswith("/dashboard")


def test_demo_quarter_has_agencies_that_meet_are_below_and_are_inconclusive(signed_in):
    response = signed_in.get(f"/dashboard?period={QUARTER}")
    assert response.status_code == 200
    verdicts = {tr["data-verdict"] for tr in rows_by_code(response).values()}
    assert {"meets", "below", "inconclusive"} <= verdicts
    assert text_of(response, "h1").endswith("Tỉnh Hài Long (dữ liệu mẫu)")


def test_default_period_is_the_last_closed_quarter(signed_in):
    response = signed_in.get("/dashboard")
    assert "Quý 3/2026" in text_of(response, ".lede")


def test_a_parent_pools_its_subtree(signed_in, agency):
    rows = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}"))
    low, high = (agency("SYT"), agency("BVDK"))
    own = db.session.execute(
        sa.select(Response.agency_id, sa.func.count())
        .where(Response.agency_id.in_([low.id, high.id]))
        .where(Response.occurred_at >= START, Response.occurred_at < END)
        .group_by(Response.agency_id)
    ).all()
    pooled = int(rows["SYT"].select_one(".valid").get_text().replace(".", ""))
    assert pooled == sum(n for _id, n in own)
    assert pooled > int(rows["BVDK"].select_one(".valid").get_text().replace(".", ""))


def test_summary_counts_agree_with_the_table(signed_in):
    response = signed_in.get(f"/dashboard?period={QUARTER}")
    # Reporting units only, each once: not the province nor the rows that pool units.
    rows = [tr for tr in rows_by_code(response).values() if tr["data-counted"] == "1"]
    assert rows and all(tr["data-family"] == "unit" for tr in rows)
    assert "DEMO" not in {tr["data-code"] for tr in rows}
    for verdict in ("meets", "below", "inconclusive"):
        shown = int(text_of(response, f"#count-{verdict}"))
        assert shown == sum(1 for tr in rows if tr["data-verdict"] == verdict)
    valid = int(text_of(response, "#summary-valid").replace(".", ""))
    province = rows_by_code(response)["DEMO"]
    assert valid == int(province.select_one(".valid").get_text().replace(".", ""))
    assert len(html(response).select("#channels li")) == 4


def test_filter_and_sort_live_in_the_url(signed_in):
    response = signed_in.get(f"/dashboard?period={QUARTER}&verdict=below&sort=-rate")
    rows = list(rows_by_code(response).values())
    assert rows and all(tr["data-verdict"] == "below" for tr in rows)
    rates = [_percent(tr.select_one(".rate").get_text()) for tr in rows]
    assert rates == sorted(rates, reverse=True)
    export = html(response).select_one(".exports a[href*='export.csv']")["href"]
    assert "verdict=below" in export and "sort=-rate" in export
    assert html(response).select_one("select[name=verdict] option[selected]")["value"] == "below"


def test_kind_and_level_filters_keep_matching_agencies_only(signed_in):
    rows = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}&kind=health"))
    assert set(rows) == {"SYT", "BVDK"}
    rows = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}&level=service_unit"))
    assert set(rows) == {"BVDK", "THPTC"}


def test_a_what_if_target_changes_the_verdicts_and_says_so(signed_in):
    response = signed_in.get(f"/dashboard?period={QUARTER}&target=40")
    rows = rows_by_code(response)
    assert "below" not in {tr["data-verdict"] for tr in rows.values()}
    assert "40,0%" in text_of(response, "p.flash")


def test_the_confidence_level_widens_the_interval(signed_in):
    narrow = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}&confidence=90"))
    wide = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}&confidence=99"))

    def width(tr):
        low, high = tr.select_one(".ci").get_text().split("–")
        return _percent(high) - _percent(low)

    assert width(wide["XTS"]) > width(narrow["XTS"])


@pytest.mark.parametrize(
    "query, message",
    [
        ("period=2026-Q5", "Kỳ báo cáo 2026-Q5 không hợp lệ"),
        ("period=2026-13", "Tháng phải từ 01 đến 12"),
        ("period=2026-09-30..2026-07-01", "Ngày kết thúc không được trước ngày bắt đầu"),
        ("period=2026-02-30..2026-03-01", "Có ngày không tồn tại"),
        ("confidence=abc", "Độ tin cậy phải là một số"),
        ("confidence=80", "Độ tin cậy phải là 90, 95 hoặc 99"),
        ("method=bayes", "Phương pháp tính khoảng không hợp lệ"),
        ("target=abc", "Chỉ tiêu phải là tỷ lệ phần trăm"),
        ("target=120", "lớn hơn 0 và nhỏ hơn 100"),
        ("sort=cost", "Cách sắp xếp không hợp lệ"),
        ("verdict=maybe", "Giá trị của verdict không hợp lệ"),
    ],
)
def test_bad_query_values_get_a_clear_400(signed_in, query, message):
    response = signed_in.get(f"/dashboard?{query}")
    assert response.status_code == 400
    name, typed = query.split("=")
    if name == "sort":  # not a field of the form: the plain error page
        assert message in text_of(response, ".error-page")
        return
    # In the form, under the field, with what was typed kept; the rest of
    # the page shows the default report.
    page = html(response)
    field = page.select_one(f"form.filters [name={name}]")
    assert field["aria-invalid"] == "true"
    assert message in page.select_one(f"#{field['id']}-error").get_text()
    if field.name == "input":
        assert field["value"] == typed
    assert message in page.select_one(".error-summary").get_text()
    assert page.select("#agencies tbody tr")


def test_periods_as_people_type_them_are_accepted(signed_in):
    for typed in ("Q3/2026", "Quý 3/2026", "2026-q3"):
        response = signed_in.get("/dashboard", query_string={"period": typed})
        assert response.status_code == 200, typed
        assert html(response).select_one("form.filters [name=period]")["value"] == "2026-Q3"


def test_an_unknown_agency_is_404(signed_in):
    response = signed_in.get(f"/dashboard?period={QUARTER}&agency=NOPE")
    assert response.status_code == 404
    assert "NOPE" in text_of(response, ".error-page")


def test_an_empty_period_shows_a_friendly_empty_state(signed_in):
    response = signed_in.get("/dashboard?period=2025-Q1")
    assert response.status_code == 200
    assert "Chưa có phản hồi" in text_of(response, "#empty")
    assert html(response).select_one("#agencies") is None


def test_flagged_and_excluded_responses_are_shown_but_not_counted(signed_in, agency):
    before = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}"))["XAP"]
    ids = db.session.scalars(
        sa.select(Response.id)
        .where(Response.agency_id == agency("XAP").id, Response.satisfied.is_(False))
        .where(Response.occurred_at >= START, Response.occurred_at < END)
        .order_by(Response.id)
        .limit(5)
    ).all()
    db.session.execute(
        sa.update(Response).where(Response.id.in_(ids[:3])).values(status=Status.FLAGGED)
    )
    db.session.execute(
        sa.update(Response).where(Response.id.in_(ids[3:])).values(status=Status.EXCLUDED)
    )
    db.session.commit()
    response = signed_in.get(f"/dashboard?period={QUARTER}")
    after = rows_by_code(response)["XAP"]
    valid = lambda tr: int(tr.select_one(".valid").get_text())  # noqa: E731
    assert valid(after) == valid(before) - 5
    assert _percent(after.select_one(".rate").get_text()) > _percent(
        before.select_one(".rate").get_text()
    )
    assert after.select_one("td.flagged").get_text(strip=True) == "3 / 2"
    assert "3 bị gắn cờ, 2 đã loại" in text_of(response, "#summary-not-counted")


def test_small_samples_are_marked(signed_in):
    rows = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}"))
    assert rows["XTS"].select_one(".small-sample") is not None
    assert rows["STP"].select_one(".small-sample") is None


def test_the_legacy_wald_method_works_with_a_warning(signed_in):
    response = signed_in.get(f"/dashboard?period={QUARTER}&method=wald")
    assert response.status_code == 200
    assert "Khoảng Wald là phương pháp cũ" in text_of(response, "p.flash-error")


def test_each_row_draws_its_interval_as_an_svg_bar_without_inline_styles(signed_in):
    response = signed_in.get(f"/dashboard?period={QUARTER}")
    bar = rows_by_code(response)["STP"].select_one("svg.bar")
    assert bar["aria-label"].startswith("Tỷ lệ")
    assert bar.select_one("line.bar-target")["x1"] == "90.00"
    assert not html(response).select("[style]")
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.get_data(as_text=True))


def test_a_merged_agency_appears_only_in_periods_with_its_responses(signed_in, agency):
    old = agency("XTS")
    old.active = False
    db.session.commit()
    rows = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}"))
    assert "inactive" in rows["XTS"]["class"]
    later = rows_by_code(signed_in.get("/dashboard?period=2027-Q1"))
    assert later == {}  # an empty period: no table at all
    db.session.add(Agency(code="XNEW", name="Xã Mới", level="commune", parent_id=agency("DEMO").id))
    db.session.commit()
    rows = rows_by_code(signed_in.get(f"/dashboard?period={QUARTER}&verdict=no_data"))
    assert "XNEW" in rows and "XTS" not in rows


def test_the_header_links_to_the_dashboard(signed_in):
    response = signed_in.get(f"/dashboard?period={QUARTER}")
    assert html(response).select_one("header nav a[href='/dashboard']") is not None


def test_the_change_from_the_previous_period_is_shown_with_its_verdict(signed_in):
    response = signed_in.get("/dashboard?period=2026-08")
    assert "Tháng 7/2026" in text_of(response, ".lede")
    change = rows_by_code(response)["DEMO"].select_one(".change")
    assert re.match(r"^[+−±]\d+,\d điểm", change.get_text(" ", strip=True))
    assert change.select_one(".badge")["class"][1].startswith("badge-")


def test_agency_names_and_codes_are_escaped_in_the_table(signed_in, agency):
    db.session.add(
        Agency(
            code='X<"&>',
            name='<script>alert("x")</script> & Co',
            level="commune",
            parent_id=agency("DEMO").id,
        )
    )
    db.session.commit()
    response = signed_in.get(f"/dashboard?period={QUARTER}&verdict=no_data")
    row = rows_by_code(response)['X<"&>']
    assert row.select_one(".agency-name a").get_text() == '<script>alert("x")</script> & Co'
    assert row.select_one(".agency-name a")["href"].startswith("/dashboard/agency/X%3C%22%26%3E?")
    assert "<script>alert" not in response.get_data(as_text=True)
