"""Agency administrators (docs/security.md, finding 1): an administrator with an agency administers
that agency's subtree and nothing else; an administrator without one is global. The walk over
every route is in tests/survey/test_security.py; these tests cover what the walk cannot see:
objects chosen in forms and query strings, lists, and the attack the review made."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Agency, ApiKey, Desk, Kiosk, Response, Role, User
from tests.conftest import PASSWORD, count, csrf_token, html
from tests.survey.admin.conftest import post
from tests.survey.admin.files import PAPER_HEADER, to_csv


@pytest.fixture
def tree(make_agency, make_desk, make_user):
    """A province with two communes; the agency administrator administers commune A."""
    province = make_agency(code="TINH", name="Tỉnh Hài Long", level="province")
    a = make_agency(code="XAA", name="Xã An", parent=province)
    a1 = make_agency(code="XAA1", name="Thôn An Một", parent=a)
    b = make_agency(code="XAB", name="Xã Bình", parent=province)
    desks = {"a": make_desk(agency=a1, code="DA"), "b": make_desk(agency=b, code="DB")}
    boss = make_user(role=Role.ADMIN, email="boss@example.org")
    agency_admin = make_user(role=Role.ADMIN, agency=a, email="admin.xaan@example.org")
    other = make_user(role=Role.ANALYST, agency=b, email="binh@example.org")
    return {
        "province": province,
        "a": a,
        "a1": a1,
        "b": b,
        "desks": desks,
        "boss": boss,
        "agency_admin": agency_admin,
        "other": other,
    }


@pytest.fixture
def agency_admin_client(client, login, tree):
    login(tree["agency_admin"])
    return client


def test_the_reviews_attack_on_the_global_admin_and_other_agencies_is_refused(
    agency_admin_client, tree
):
    """What the review did with `create-user --role admin --agency SYT`: disable the main
    administrator, reset its password, revoke the global key, deactivate another agency,
    revoke a kiosk outside the subtree."""
    from survey.credentials import issue_api_key

    key, _ = issue_api_key("province", ["directory:read"], None)
    kiosk = Kiosk(desk=tree["desks"]["b"], name="Máy Bình")
    db.session.add(kiosk)
    db.session.commit()
    client, boss = agency_admin_client, tree["boss"]
    attempts = [
        f"/admin/users/{boss.id}/disable",
        f"/admin/users/{boss.id}/reset-password",
        f"/admin/users/{tree['other'].id}/disable",
        f"/admin/api-keys/{key.id}/revoke",
        f"/admin/agencies/{tree['b'].id}/deactivate",
        f"/admin/agencies/{tree['province'].id}/deactivate",
        f"/admin/kiosks/{kiosk.id}/revoke",
    ]
    for path in attempts:
        assert post(client, path).status_code == 403, path
    db.session.expire_all()
    boss = db.session.get(User, boss.id)
    assert boss.active and db.session.get(User, tree["other"].id).active
    assert client.application.test_client().post  # the boss still signs in below
    assert db.session.get(ApiKey, key.id).revoked_at is None
    assert db.session.get(Agency, tree["b"].id).active
    assert db.session.get(Kiosk, kiosk.id).revoked_at is None
    from survey.security import verify_password

    assert verify_password(boss.password_hash, PASSWORD)


def test_lists_show_only_the_subtree(agency_admin_client, tree):
    client = agency_admin_client
    users = client.get("/admin/users").get_data(as_text=True)
    assert "admin.xaan@example.org" in users
    assert "boss@example.org" not in users and "binh@example.org" not in users
    agencies = client.get("/admin/agencies").get_data(as_text=True)
    assert "XAA1" in agencies and "XAB" not in agencies and "TINH" not in agencies
    export = client.get("/admin/agencies/export.csv").get_data(as_text=True)
    assert "XAA1" in export and "XAB" not in export and "TINH" not in export
    overview = html(client.get("/admin/"))
    links = {a["href"] for a in overview.select("a")}
    assert "/admin/questionnaires" not in links and "/admin/targets" not in links
    assert "/admin/imports/agencies" not in links


def test_a_user_can_only_be_created_inside_the_subtree(agency_admin_client, tree):
    client = agency_admin_client
    form = html(client.get("/admin/users/new"))
    offered = [o["value"] for o in form.select("select[name=agency] option")]
    assert offered == [str(tree["a"].id), str(tree["a1"].id)]  # no "all agencies"
    for agency in ("", str(tree["b"].id), str(tree["province"].id)):
        data = {"email": "x@example.org", "role": "admin", "agency": agency, "password": ""}
        assert post(client, "/admin/users/new", data).status_code == 400, agency
    assert db.session.scalar(sa.select(User).where(User.email == "x@example.org")) is None
    data = {"email": "x@example.org", "role": "admin", "agency": str(tree["a1"].id)}
    assert post(client, "/admin/users/new", {**data, "password": ""}).status_code == 200
    created = db.session.scalar(sa.select(User).where(User.email == "x@example.org"))
    assert (created.role, created.agency_id) == (Role.ADMIN, tree["a1"].id)


def test_a_user_cannot_be_moved_out_of_the_subtree(agency_admin_client, tree, make_user):
    user = make_user(agency=tree["a1"])
    data = {"email": user.email, "role": "analyst", "agency": str(tree["b"].id)}
    assert post(agency_admin_client, f"/admin/users/{user.id}/edit", data).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).agency_id == tree["a1"].id


def test_api_keys_are_issued_for_the_subtree_only(agency_admin_client, tree):
    client = agency_admin_client
    for agency in ("", str(tree["b"].id)):
        data = {"name": "k", "scopes": "directory:read", "agency": agency}
        assert post(client, "/admin/api-keys/new", data).status_code == 400
    assert count(ApiKey) == 0
    data = {"name": "k", "scopes": "directory:read", "agency": str(tree["a"].id)}
    assert post(client, "/admin/api-keys/new", data).status_code == 200
    assert db.session.scalar(sa.select(ApiKey.agency_id)) == tree["a"].id


def test_agencies_are_created_and_moved_inside_the_subtree_only(agency_admin_client, tree):
    client = agency_admin_client
    base = {"code": "XAN", "name": "Thôn Mới", "level": "commune", "kind": "administrative"}
    base["questionnaire"] = ""
    for parent in ("", str(tree["b"].id), str(tree["province"].id)):
        assert post(client, "/admin/agencies/new", {**base, "parent": parent}).status_code == 400
    assert db.session.scalar(sa.select(Agency).where(Agency.code == "XAN")) is None
    assert (
        post(client, "/admin/agencies/new", {**base, "parent": str(tree["a"].id)}).status_code
        == 303
    )
    a1 = tree["a1"]
    moved = {"code": a1.code, "name": a1.name, "level": "commune", "kind": "administrative"}
    moved["questionnaire"] = ""
    path = f"/admin/agencies/{a1.id}/edit"
    assert post(client, path, {**moved, "parent": str(tree["b"].id)}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Agency, a1.id).parent_id == tree["a"].id


def test_the_administrators_own_agency_is_read_only_for_them(agency_admin_client, tree):
    client, a = agency_admin_client, tree["a"]
    assert client.get(f"/admin/agencies/{a.id}").status_code == 200
    for action in ("edit", "deactivate", "delete"):
        assert post(client, f"/admin/agencies/{a.id}/{action}").status_code == 403, action
    for source in (a, tree["b"]):
        data = {"sources": str(source.id), "target": str(tree["a1"].id), "confirm": "y"}
        data["merged_on"] = "2025-07-01"
        assert post(client, "/admin/agencies/merge", data).status_code in (400, 403)
    db.session.expire_all()
    assert db.session.get(Agency, a.id).active and db.session.get(Agency, tree["b"].id).active
    # ... while its desks and sub-agencies are theirs to manage
    assert post(client, f"/admin/desks/{tree['desks']['a'].id}/deactivate").status_code == 303


def test_desks_posters_and_kiosks_stay_in_the_subtree(agency_admin_client, tree):
    client, desk_b = agency_admin_client, tree["desks"]["b"]
    data = {"code": "DN", "name": "Quầy mới", "agency": str(tree["b"].id), "questionnaire": ""}
    assert post(client, f"/admin/agencies/{tree['a'].id}/desks/new", data).status_code == 400
    assert db.session.scalar(sa.select(Desk).where(Desk.code == "DN")) is None
    assert client.get(f"/admin/posters.pdf?desk={desk_b.id}&size=A4").status_code == 403
    assert client.get(f"/admin/posters.pdf?agency={tree['b'].id}&size=A4").status_code == 403
    assert (
        client.get(f"/admin/posters.pdf?agency={tree['a'].id}&size=A4&subtree=y").status_code == 200
    )
    response = post(client, "/admin/kiosks/new", {"desk": str(desk_b.id), "name": "Máy"})
    assert response.status_code == 400
    assert count(Kiosk) == 0


def test_paper_forms_go_to_desks_of_the_subtree_only(agency_admin_client, tree):
    rows = [["DB", "2026-01-05", "hai_long", *[""] * 9, "", "1"]]
    response = post(
        agency_admin_client,
        "/admin/imports/paper",
        {"file": (io.BytesIO(to_csv(PAPER_HEADER, rows)), "p.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "DB" in html(response).select_one("table, .errors, main").get_text()
    assert count(Response) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/admin/questionnaires",
        "/admin/targets",
        "/admin/targets/new",
        "/admin/imports/agencies",
        "/admin/holidays",
        "/alerts/outbox",
    ],
)
def test_province_wide_settings_are_for_global_administrators(agency_admin_client, path):
    assert agency_admin_client.get(path).status_code == 403


def test_the_dashboard_of_an_agency_administrator_is_their_subtree(agency_admin_client, tree):
    client = agency_admin_client
    assert client.get(f"/dashboard/agency/{tree['b'].code}").status_code == 403
    assert client.get(f"/dashboard/agency/{tree['province'].code}").status_code == 403
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Xã An" in page and "Xã Bình" not in page and "Tỉnh Hài Long" not in page


def test_the_cli_creates_an_agency_administrator(runner, tree):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "cli@example.org",
            "--role",
            "admin",
            "--agency",
            "XAB",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "limited to XAB" in result.output
    user = db.session.scalar(sa.select(User).where(User.email == "cli@example.org"))
    assert (user.role, user.agency_id) == (Role.ADMIN, tree["b"].id)


def test_a_global_administrator_still_administers_everything(client, login, tree):
    login(tree["boss"])
    for path in ("/admin/questionnaires", "/admin/targets", "/admin/holidays", "/alerts/outbox"):
        assert client.get(path).status_code in (200, 302), path
    token = csrf_token(client.get("/admin/"))
    path = f"/admin/agencies/{tree['b'].id}/deactivate"
    assert client.post(path, data={"csrf_token": token}).status_code == 303
