"""Cases: opened by the write path, worked by staff of the agency's subtree, answered to the
citizen by code."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from survey.cases.models import Case, CaseStatus
from survey.cases.workdays import add_working_days
from survey.extensions import db
from survey.models import AuditLog, Level, Response, Role, Status
from survey.periods import local_today, to_local
from survey.review.views import decide
from tests.conftest import count, csrf_token, html, text_of


def _post(client, path, **data):
    token = csrf_token(client.get(path.rsplit("/", 1)[0]))
    return client.post(path, data={"csrf_token": token, **data})


# ---- opening ---------------------------------------------------------------------------------


def test_dissatisfied_comment_opens_a_case_due_ten_working_days_later(make_case, desk):
    case = make_case()
    assert case.status == CaseStatus.NEW and case.agency_id == desk.agency_id
    opened = to_local(case.opened_at).date()
    assert case.due_on == add_working_days(opened, 10)
    assert (case.due_on - opened).days >= 14  # two weekends at least
    assert len(case.code) == 10 and case.display_code[5] == "-"
    opened_entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.target == case.code))
    assert opened_entry.action == "case.open" and opened_entry.actor == "system"


def test_satisfied_comments_and_ratings_without_comment_open_no_case(rate, desk):
    assert rate(desk, level="hai_long", comment="Cán bộ tận tình") is None
    assert rate(desk, comment=None) is None
    assert rate(desk, comment="   ") is None
    assert count(Case) == 0


@pytest.fixture
def every_comment(app):
    app.config["CASE_OPEN_FOR"] = "comment"


def test_every_comment_opens_a_case_when_configured(every_comment, rate, desk):
    assert rate(desk, level="rat_hai_long", comment="Rất hài lòng, cảm ơn") is not None


def test_a_flagged_rating_opens_its_case_only_when_the_review_counts_it(rate, desk):
    assert rate(desk, status=Status.FLAGGED, status_reason="client_burst") is None
    response = db.session.scalar(sa.select(Response))
    decide([response], "valid", "Người thật, đã kiểm tra")
    db.session.commit()
    case = db.session.scalar(sa.select(Case))
    assert case is not None and case.response_id == response.id


def test_retrying_a_rating_opens_one_case(app, desk):
    import uuid

    from survey.models import Channel
    from survey.responses import Submission, record

    submission = Submission(
        id=uuid.uuid4(),
        desk=desk,
        questionnaire=desk.current_questionnaire(),
        channel=Channel.API,
        level="khong_hai_long",
        comment="Thủ tục rườm rà",
    )
    record(submission)
    record(submission)
    assert count(Case) == 1


def test_purge_deletes_the_cases_of_the_deleted_ratings(make_case, runner):
    case = make_case()
    db.session.get(Response, case.response_id).occurred_at -= timedelta(days=800)
    db.session.commit()
    before = (local_today() - timedelta(days=400)).isoformat()
    result = runner.invoke(args=["purge", "--before", before, "--yes"])
    assert result.exit_code == 0, result.output
    assert "with the 1 cases they opened" in result.output
    assert count(Case) == 0


# ---- staff pages -----------------------------------------------------------------------------


@pytest.fixture
def tree(make_agency, make_desk):
    """A department with a commune under it, and an unrelated commune."""
    department = make_agency(code="SNV", name="Sở Nội vụ", level=Level.DEPARTMENT)
    commune = make_agency(code="PHT", name="Phường Hòa Thuận", parent=department)
    other = make_agency(code="XKH", name="Xã Khác")
    return {
        "department": department,
        "commune": commune,
        "other": other,
        "commune_desk": make_desk(commune),
        "other_desk": make_desk(other),
    }


@pytest.fixture
def analyst(make_user, tree):
    return make_user(role=Role.ANALYST, agency=tree["department"], name="Trần Thị Lan")


def test_staff_see_only_the_cases_of_their_subtree(client, login, analyst, tree, make_case):
    mine = make_case(tree["commune_desk"])
    theirs = make_case(tree["other_desk"])
    login(analyst)
    page = html(client.get("/cases/"))
    codes = [a.get_text() for a in page.select("#cases a.case-link")]
    assert codes == [mine.display_code]
    assert client.get(f"/cases/{theirs.code}").status_code == 403
    refused = _post(client, f"/cases/{theirs.code}/reply", reply="Xin trả lời", publish="y")
    assert refused.status_code == 403
    assert "ngoài phạm vi" in text_of(refused, "main")
    db.session.refresh(theirs)
    assert theirs.reply is None


def test_an_unknown_case_is_a_friendly_404(client, login, analyst):
    login(analyst)
    response = client.get("/cases/ZZZZZZZZZZ")
    assert response.status_code == 404
    assert "ZZZZZZZZZZ" in text_of(response, "main")


def test_assigning_answering_and_publishing_is_recorded_in_the_history(
    client, login, analyst, tree, make_case
):
    case = make_case(tree["commune_desk"])
    login(analyst)
    assigned = _post(client, f"/cases/{case.code}/assign", assignee=str(analyst.id))
    assert assigned.status_code == 303
    answered = _post(
        client,
        f"/cases/{case.code}/reply",
        reply="Kính gửi Ông/Bà,\nchúng tôi xin lỗi và đã nhắc nhở cán bộ.",
        publish="y",
    )
    assert answered.status_code == 303
    db.session.refresh(case)
    assert case.status == CaseStatus.ANSWERED and case.assignee_id == analyst.id
    assert case.answered_at is not None and case.published_at is not None
    history = [
        row.get_text(" ", strip=True)
        for row in html(client.get(f"/cases/{case.code}")).select("#case-history tbody tr")
    ]
    assert len(history) == 3
    assert "Trần Thị Lan" not in history[0] and analyst.email in history[0]
    assert "chúng tôi xin lỗi" in history[0]
    assert "Giao cho" in history[1] or analyst.email in history[1]
    closed = _post(client, f"/cases/{case.code}/close", note="Đã giải quyết")
    assert closed.status_code == 303
    db.session.refresh(case)
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    again = _post(client, f"/cases/{case.code}/reply", reply="Thêm", publish="y")
    assert again.status_code == 409
    reopened = _post(client, f"/cases/{case.code}/reopen")
    assert reopened.status_code == 303
    db.session.refresh(case)
    assert case.status == CaseStatus.ANSWERED


def test_an_unpublished_reply_stays_with_staff(client, login, analyst, tree, make_case):
    case = make_case(tree["commune_desk"])
    login(analyst)
    _post(client, f"/cases/{case.code}/reply", reply="Bản nháp trả lời")
    db.session.refresh(case)
    assert case.reply == "Bản nháp trả lời" and case.published_at is None
    citizen = client.get(f"/c/{case.code}")
    assert citizen.status_code == 200
    assert html(citizen).select_one("#case-reply") is None
    assert "Bản nháp" not in citizen.get_data(as_text=True)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("x" * 100_000, "dưới 4000 ký tự"),
        ("Kính gửi Ông/Bà, <b>chúng tôi</b> xin lỗi", "thẻ HTML"),
        ("<script>alert(1)</script>", "thẻ HTML"),
        ("   ", "Vui lòng viết"),
    ],
    ids=["100 KB", "HTML", "script", "blank"],
)
def test_bad_replies_get_a_clear_400_and_change_nothing(
    client, login, analyst, tree, make_case, reply, message
):
    case = make_case(tree["commune_desk"])
    login(analyst)
    response = _post(client, f"/cases/{case.code}/reply", reply=reply, publish="y")
    assert response.status_code == 400
    assert message in text_of(response, "#reply-heading + form .errors")
    db.session.refresh(case)
    assert case.reply is None and case.status == CaseStatus.NEW
    history = sa.select(sa.func.count()).where(AuditLog.target == case.code)
    assert db.session.scalar(history) == 1  # only the opening


def test_replies_are_shown_escaped(client, make_case):
    case = make_case()
    case.reply = 'So sánh: 1 < 2 & "ngoặc" <img src=x onerror=alert(1)>'
    case.published_at = case.opened_at
    db.session.commit()
    page = client.get(f"/c/{case.code}")
    reply = html(page).select_one("#case-reply")
    assert reply.select("img") == []
    assert reply.get_text() == case.reply
    assert "&lt;img src=x" in page.get_data(as_text=True)


def test_a_case_cannot_be_assigned_to_someone_outside_its_agency(
    client, login, analyst, tree, make_case, make_user
):
    outsider = make_user(role=Role.ANALYST, agency=tree["other"])
    case = make_case(tree["commune_desk"])
    login(analyst)
    response = _post(client, f"/cases/{case.code}/assign", assignee=str(outsider.id))
    assert response.status_code == 400
    assert "không tồn tại" in text_of(response, "#assign-heading + form .errors")
    options = [
        o["value"] for o in html(client.get(f"/cases/{case.code}")).select("#assignee option")
    ]
    assert str(analyst.id) in options and str(outsider.id) not in options


def test_overdue_cases_are_counted_in_the_navigation_and_filtered(
    client, login, analyst, tree, make_case
):
    late = make_case(tree["commune_desk"])
    make_case(tree["commune_desk"])
    late.due_on = local_today() - timedelta(days=1)
    db.session.commit()
    login(analyst)
    page = client.get("/dashboard")
    assert text_of(page, "nav a.nav-cases .nav-count").startswith("1")
    listed = html(client.get("/cases/?status=open&overdue=y")).select("#cases a.case-link")
    assert [a.get_text() for a in listed] == [late.display_code]
    assert html(client.get("/cases/")).select_one("tr.is-overdue .badge-overdue") is not None


def test_filters_by_status_and_assignee(client, login, analyst, tree, make_case):
    first, second = make_case(tree["commune_desk"]), make_case(tree["commune_desk"])
    login(analyst)
    _post(client, f"/cases/{first.code}/assign", assignee=str(analyst.id))
    mine = html(client.get("/cases/?assignee=me")).select("#cases a.case-link")
    assert [a.get_text() for a in mine] == [first.display_code]
    unassigned = html(client.get("/cases/?assignee=none")).select("#cases a.case-link")
    assert [a.get_text() for a in unassigned] == [second.display_code]
    new_only = html(client.get("/cases/?status=new")).select("#cases a.case-link")
    assert [a.get_text() for a in new_only] == [second.display_code]


@pytest.mark.parametrize(
    "query",
    [
        "status=nope",
        "opened_from=2026-13-01",
        "page=0",
        "opened_from=2026-05-02&opened_to=2026-05-01",
    ],
)
def test_bad_filters_get_a_400(client, login, analyst, query):
    login(analyst)
    assert client.get(f"/cases/?{query}").status_code == 400


def test_cases_need_a_staff_sign_in(client, make_case):
    case = make_case()
    assert client.get("/cases/").status_code == 302
    assert client.get(f"/cases/{case.code}").status_code == 302


# ---- the citizen's side ----------------------------------------------------------------------


def test_citizen_finds_a_case_by_a_code_typed_loosely(client, make_case):
    case = make_case()
    typed = f"{case.code[:5].lower()} {case.code[5:].lower()}".replace("0", "o")
    found = client.get("/c/", query_string={"code": typed})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/c/{case.code}")
    assert client.get("/c/", query_string={"code": "abc"}).status_code == 400
    assert client.get("/c/0000000000").status_code == 404
    page = client.get(f"/c/{case.code}")
    assert text_of(page, "#case-state").endswith("Câu trả lời sẽ hiển thị tại trang này.")
    assert case.due_on.strftime("%d/%m/%Y") in text_of(page, "#case-state")


def test_the_thank_you_page_shows_the_case_code_and_link(client, survey_path):
    page = client.get(survey_path)
    fields = {i["name"]: i.get("value", "") for i in html(page).select("form input[type=hidden]")}
    sent = client.post(
        survey_path, data={**fields, "rating": "khong_hai_long", "comment": "Phải chờ 2 giờ"}
    )
    assert sent.status_code == 303
    thanks = client.get(sent.headers["Location"])
    case = db.session.scalar(sa.select(Case))
    assert text_of(thanks, "#case-code") == case.display_code
    link = html(thanks).select_one("#case-link")["href"]
    assert link.endswith(f"/c/{case.code}")


def test_a_satisfied_rating_shows_no_case_on_the_thank_you_page(client, survey_path):
    page = client.get(survey_path)
    fields = {i["name"]: i.get("value", "") for i in html(page).select("form input[type=hidden]")}
    sent = client.post(survey_path, data={**fields, "rating": "hai_long", "comment": "Tốt"})
    assert html(client.get(sent.headers["Location"])).select_one("#case") is None


def test_the_api_answer_carries_the_case_for_the_portal(client, desk, make_api_key):
    import uuid

    _, key = make_api_key(scopes=["responses:write"])
    body = {
        "id": str(uuid.uuid4()),
        "desk": desk.code,
        "level": "khong_hai_long",
        "comment": "Chưa nhận được kết quả đúng hẹn",
    }
    headers = {"Authorization": f"Bearer {key}"}
    first = client.post("/api/v1/responses", json=body, headers=headers)
    assert first.status_code == 201
    case = db.session.scalar(sa.select(Case))
    assert first.json["case"] == {
        "code": case.display_code,
        "url": f"http://hailong.test/c/{case.code}",
    }
    again = client.post("/api/v1/responses", json=body, headers=headers)
    assert again.json["case"] == first.json["case"]
    calm = client.post(
        "/api/v1/responses",
        json={"id": str(uuid.uuid4()), "desk": desk.code, "level": "hai_long"},
        headers=headers,
    )
    assert "case" not in calm.json


def test_every_field_of_the_case_pages_has_a_label(client, login, analyst, tree, make_case):
    case = make_case(tree["commune_desk"])
    login(analyst)
    for path in ("/cases/", f"/cases/{case.code}", "/alerts/", "/c/"):
        page = html(client.get(path))
        fields = page.select("main input:not([type=hidden]), main select, main textarea")
        assert fields, path
        for node in fields:
            labelled = page.select_one(f"label[for='{node['id']}']") or node.find_parent("label")
            assert labelled is not None, (path, node)
