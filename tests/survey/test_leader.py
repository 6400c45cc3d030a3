"""The leader role (lãnh đạo): scoped to an agency subtree; sees its dashboard, cases and
alerts, assigns cases, gets the alert e-mails; cannot review ratings or change the
questionnaire, targets or users."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey import periods
from survey.alerts import service as alerts
from survey.cases.models import CaseStatus
from survey.extensions import db
from survey.models import Level, Role, Target, User
from tests.conftest import count, csrf_token, html
from tests.survey.admin.test_access import PAGES


@pytest.fixture
def tree(make_agency, make_desk):
    department = make_agency(code="SYT", name="Sở Y tế", level=Level.DEPARTMENT)
    hospital = make_agency(code="BVT", name="Bệnh viện tỉnh", parent=department)
    other = make_agency(code="XKH", name="Xã Khác")
    return {
        "department": department,
        "hospital": hospital,
        "other": other,
        "hospital_desk": make_desk(hospital),
        "other_desk": make_desk(other),
    }


@pytest.fixture
def leader(make_user, tree, login):
    user = make_user(role=Role.LEADER, agency=tree["department"], name="Giám đốc Sở")
    login(user)
    return user


def test_a_leader_sees_the_dashboard_cases_and_alerts_of_the_subtree_only(
    client, leader, tree, make_case
):
    mine, theirs = make_case(tree["hospital_desk"]), make_case(tree["other_desk"])
    quarter = periods.quarter_of(periods.local_today()).key
    assert client.get("/dashboard").status_code == 200
    assert client.get(f"/dashboard/agency/BVT?period={quarter}").status_code == 200
    assert client.get(f"/dashboard/agency/XKH?period={quarter}").status_code == 403
    listed = [a.get_text() for a in html(client.get("/cases/")).select("#cases a.case-link")]
    assert listed == [mine.display_code]
    assert client.get(f"/cases/{theirs.code}").status_code == 403
    assert client.get("/alerts/").status_code == 200
    nav = {a["href"] for a in html(client.get("/cases/")).select("header nav a")}
    assert {"/dashboard", "/cases/", "/alerts/"} <= nav and "/review/" not in nav


def test_a_leader_assigns_a_case_to_a_member_of_the_agency(
    client, leader, tree, make_case, make_user
):
    doctor = make_user(agency=tree["hospital"], name="Bác sĩ Hòa")
    case = make_case(tree["hospital_desk"])
    page = client.get(f"/cases/{case.code}")
    options = {o["value"] for o in html(page).select("#assignee option")}
    assert {str(leader.id), str(doctor.id)} <= options
    sent = client.post(
        f"/cases/{case.code}/assign",
        data={"csrf_token": csrf_token(page), "assignee": str(doctor.id)},
    )
    assert sent.status_code == 303
    db.session.refresh(case)
    assert case.assignee_id == doctor.id and case.status == CaseStatus.ASSIGNED


def test_a_leader_cannot_review_ratings_or_administer(client, leader):
    assert client.get("/review/").status_code == 403
    assert {client.get(path).status_code for path in PAGES} == {403}
    token = csrf_token(client.get("/dashboard"))
    refused = client.post(
        "/admin/targets/new",
        data={"csrf_token": token, "rate": "50", "valid_from": "2026-01-01", "scope": "all"},
    )
    assert refused.status_code == 403
    assert count(Target) == 3  # the shipped ones


def test_leaders_receive_alert_emails_without_subscribing(app, leader, make_user):
    others = make_user()  # an analyst who did not subscribe
    assert [u.id for u in alerts.recipients()] == [leader.id]
    assert others.id not in {u.id for u in alerts.recipients()}


def test_a_leader_needs_an_agency(runner, app):
    refused = runner.invoke(
        args=["create-user", "--email", "gd@example.gov.vn", "--role", "leader"],
        input="correct horse battery\ncorrect horse battery\n",
    )
    assert refused.exit_code != 0
    assert "a leader leads an agency" in refused.output
    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(User(email="x@example.gov.vn", role=Role.LEADER, password_hash="x"))
        db.session.commit()
    db.session.rollback()


def test_the_admin_form_creates_a_leader_for_an_agency(client, make_user, login, tree):
    from tests.survey.admin.conftest import post

    login(make_user(role=Role.ADMIN))
    data = {"email": "gd@syt.example.gov.vn", "name": "", "role": "leader", "password": ""}
    refused = post(client, "/admin/users/new", {**data, "agency": ""})
    assert refused.status_code == 400
    assert "chọn cơ quan" in html(refused).select_one("#agency-error").get_text()
    created = post(client, "/admin/users/new", {**data, "agency": str(tree["department"].id)})
    assert created.status_code == 200  # the page with the one-time password
    user = db.session.scalar(sa.select(User).where(User.email == "gd@syt.example.gov.vn"))
    assert user.role == Role.LEADER and user.agency_id == tree["department"].id
