"""Hardening: every non-public route refuses anonymous users and out-of-scope analysts (a walk
over app.url_map, so that routes added later are covered), security headers, cookies."""

from __future__ import annotations

import uuid

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter, UUIDConverter

from survey.credentials import issue_api_key
from survey.extensions import db
from survey.models import Kiosk, Role
from tests.conftest import csrf_token

# Endpoints anyone may use: the citizen's and the kiosk's pages, sign-in, the public results,
# health checks and the API description. Everything else must refuse anonymous users.
PUBLIC = {
    "static",
    "main.home",
    "main.healthz",
    "main.ping",
    "main.prompt",  # a spoken prompt, played to citizens on the kiosk and the survey page
    "auth.login",
    "citizen.survey",
    "citizen.thanks",
    "tickets.survey",
    "cases.lookup",  # a citizen reads the answer to their feedback by its code, no account
    "cases.public",
    "tickets.thanks",
    "public.results",
    "kiosk.shell",
    "kiosk.enrol",
    "kiosk.enrol_link",
    "kiosk.manifest",
    "kiosk.service_worker",
    "api.openapi_json",
    "api.kiosk_enrol",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# URL arguments that name an object, filled with the other agency's object in the scope test.
# Routes whose only arguments are formats, names or actions (e.g. /dashboard/export.<fmt>)
# cannot be scoped by their URL: their query strings are tested by their own areas' tests.
OBJECT_ARGS = {
    "agency_id",
    "desk_id",
    "code",
    "response_id",
    "kiosk_id",
    "key_id",
    "user_id",
    "ticket_id",
}
GUESSES = {"fmt": "csv", "name": "funnel", "token": "x"}


def protected_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint not in PUBLIC:
            yield rule


def build(rule, objects: dict) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if name in objects:
            values[name] = objects[name]
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, UUIDConverter):
            values[name] = uuid.uuid4()
        else:
            values[name] = GUESSES.get(name, "x")
    return rule.build(values)[1]


def call(client, method, path, token):
    if method == "GET":
        return client.get(path)
    if path.startswith("/api/"):
        return client.open(path, method=method, json={})
    return client.open(path, method=method, data={"csrf_token": token})


@pytest.fixture
def two_agencies(make_agency, make_desk, make_user):
    """The analyst's agency and another, each with a desk, a flagged response, a kiosk, a user
    and an API key."""
    made = {}
    for label in ("mine", "theirs"):
        agency = make_agency()
        desk = make_desk(agency=agency)
        kiosk = Kiosk(desk=desk, name="Máy 1")
        db.session.add(kiosk)
        key, _ = issue_api_key("k", ["directory:read"], agency.id)
        db.session.commit()
        made[label] = {
            "agency": agency,
            "agency_id": agency.id,
            "code": agency.code,
            "desk_id": desk.id,
            "kiosk_id": kiosk.id,
            "key_id": key.id,
            "user_id": make_user(agency=agency).id,
            "desk": desk,
        }
    return made


def test_every_non_public_route_refuses_anonymous_users(app, client):
    token = csrf_token(client.get("/auth/login"))
    checked, failures = 0, []
    for rule in protected_rules(app):
        path = build(rule, {})
        for method in sorted(rule.methods & set(METHODS)):
            response = call(client, method, path, token)
            checked += 1
            refused = response.status_code in (401, 403) or (
                response.status_code == 302 and "/auth/login" in response.headers["Location"]
            )
            if path.startswith("/api/"):
                refused = response.status_code == 401
            if not refused:
                failures.append((method, path, response.status_code))
    assert checked >= 40, checked  # grows as areas add routes
    assert failures == []


def test_an_analyst_is_refused_on_another_agencys_objects(app, client, login, two_agencies):
    from survey.models import Channel, Response, User, utcnow

    theirs = two_agencies["theirs"]
    questionnaire = theirs["desk"].current_questionnaire()
    response = Response(
        id=uuid.uuid4(),
        desk_id=theirs["desk_id"],
        agency_id=theirs["agency_id"],
        questionnaire_id=questionnaire.id,
        channel=Channel.QR,
        level="hai_long",
        satisfied=True,
        occurred_at=utcnow(),
        received_at=utcnow(),
        status="flagged",
        status_reason="client_burst",
        content_hash="x",
    )
    db.session.add(response)
    db.session.commit()
    objects = {k: v for k, v in theirs.items() if k in OBJECT_ARGS}
    objects["response_id"] = response.id

    analyst = db.session.get(User, two_agencies["mine"]["user_id"])
    assert analyst.role == Role.ANALYST
    login(analyst)
    token = csrf_token(client.get("/review/", follow_redirects=True))
    checked, failures = 0, []
    for rule in protected_rules(app):
        if rule.rule.startswith("/api/") or not (set(rule.arguments) & OBJECT_ARGS):
            continue
        path = build(rule, objects)
        for method in sorted(rule.methods & set(METHODS)):
            result = call(client, method, path, token)
            checked += 1
            if result.status_code not in (403, 404):
                failures.append((method, path, result.status_code))
    assert checked >= 20, checked  # the review page, dashboards, administration, kiosks
    assert failures == []
    db.session.refresh(response)
    assert response.status == "flagged"


def test_an_agency_admin_acts_only_inside_their_subtree(
    app, client, login, make_user, two_agencies
):
    """The fourth identity of the walk: an administrator limited to an agency. Every route
    that names an object of another agency (or a global user or API key) refuses, every
    province-wide administration route refuses, the pages of the subtree work and show
    nothing from outside it, and nothing outside changes."""
    from survey.models import Agency, ApiKey, User
    from survey.scope import AGENCY_ADMIN_ENDPOINTS

    mine, theirs = two_agencies["mine"], two_agencies["theirs"]
    boss = make_user(role=Role.ADMIN, email="boss@example.org")  # the global administrator
    global_key, _ = issue_api_key("the province's key", ["directory:read"], None)
    db.session.commit()
    analyst = db.session.get(User, mine["user_id"])
    agency_admin = make_user(role=Role.ADMIN, agency=mine["agency"], email="xa@example.org")
    outside_markers = [theirs["code"], boss.email, "the province's key"]
    outside_markers.append(db.session.get(User, theirs["user_id"]).email)

    def walk(objects):
        token = csrf_token(client.get("/", follow_redirects=True))
        seen = {}
        for rule in protected_rules(app):
            if rule.rule.startswith("/api/") or rule.endpoint == "auth.logout":
                continue
            path = build(rule, objects)
            for method in sorted(rule.methods & set(METHODS)):
                seen[(rule.endpoint, rule.rule, method)] = call(client, method, path, token)
        return seen

    # Which routes are administration routes: those an analyst of the same agency is refused
    # even on objects of their own agency.
    login(analyst)
    mine_objects = {k: v for k, v in mine.items() if k in OBJECT_ARGS}
    admin_only = {key for key, r in walk(mine_objects).items() if r.status_code == 403}
    token = csrf_token(client.get("/dashboard/"))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302

    login(agency_admin)
    variants = [{k: v for k, v in theirs.items() if k in OBJECT_ARGS}]
    variants.append({**variants[0], "user_id": boss.id, "key_id": global_key.id})
    failures, served = [], 0
    for objects in variants:
        for (endpoint, rule, method), result in walk(objects).items():
            names_an_object = bool(
                set(app.url_map._rules_by_endpoint[endpoint][0].arguments) & set(OBJECT_ARGS)
            )
            global_only = (
                endpoint,
                rule,
                method,
            ) in admin_only and endpoint not in AGENCY_ADMIN_ENDPOINTS
            body = result.get_data(as_text=True)
            if names_an_object or global_only:
                if result.status_code not in (403, 404):
                    failures.append((method, rule, endpoint, result.status_code))
            elif result.status_code >= 500:
                failures.append((method, rule, endpoint, result.status_code))
            else:
                served += result.status_code == 200
                leaked = [m for m in outside_markers if m in body]
                if leaked:
                    failures.append((method, rule, endpoint, "shows", leaked))
    assert failures == []
    assert served >= 15, served  # the subtree's administration pages do work
    assert {e for e, _r, _m in admin_only} - AGENCY_ADMIN_ENDPOINTS >= {
        "admin.questionnaires",
        "admin.targets",
        "admin.import_agencies",
        "cases.holidays_now",
        "alerts.outbox",
    }
    db.session.expire_all()
    assert db.session.get(User, boss.id).active
    assert db.session.get(User, theirs["user_id"]).active
    assert db.session.get(ApiKey, global_key.id).revoked_at is None
    assert db.session.get(ApiKey, theirs["key_id"]).revoked_at is None
    assert db.session.get(Agency, theirs["agency_id"]).active
    assert db.session.get(Kiosk, theirs["kiosk_id"]).revoked_at is None


def test_every_response_carries_the_security_headers(client, survey_path):
    for path in ("/", survey_path, "/auth/login", "/api/v1/openapi.json", "/nope"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS


def test_hsts_is_sent_over_tls(client):
    headers = client.get("/", base_url="https://hailong.test").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_session_cookie_is_httponly_and_samesite(client):
    cookie = client.get("/auth/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure():
    from survey.config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE and ProductionConfig.REMEMBER_COOKIE_SECURE


def test_every_form_page_carries_a_csrf_token(client, survey_path, make_ticket_path):
    for path in ("/auth/login", survey_path, make_ticket_path):
        assert csrf_token(client.get(path))


@pytest.fixture
def make_ticket_path(app, desk):
    from survey.tickets.service import TicketRequest, issue, ticket_token

    ticket, _ = issue(TicketRequest(desk=desk, dossier_code="H1"))
    return f"/t/{ticket_token(ticket)}"


def test_logs_do_not_carry_raw_addresses(app, client, survey_path, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    client.get(survey_path, environ_base={"REMOTE_ADDR": "198.51.100.99"})
    client.post(survey_path, data={}, environ_base={"REMOTE_ADDR": "198.51.100.99"})
    assert "198.51.100.99" not in caplog.text


def test_an_api_key_cannot_use_a_kiosk_only_endpoint(app, client):
    from survey.credentials import API_KEY_SCOPES

    _, key = issue_api_key("all scopes", list(API_KEY_SCOPES))
    db.session.commit()
    kiosk_only = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.kiosk_") and rule.endpoint != "api.kiosk_enrol"
    ]
    assert {"api.kiosk_config", "api.kiosk_heartbeat"} <= {r.endpoint for r in kiosk_only}
    for rule in kiosk_only:
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(
                rule.rule, method=method, json={}, headers={"Authorization": f"Bearer {key}"}
            )
            assert response.status_code == 403, rule.rule


def test_signed_in_pages_are_never_cached(client, login, make_user, make_agency):
    """Finding 13: staff pages carry `Cache-Control: private, no-store`; public pages keep
    their own caching."""
    login(make_user(role=Role.ADMIN))
    for path in ("/dashboard/", "/review/", "/admin/", "/admin/users", "/cases/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
    assert client.get("/public/results").headers["Cache-Control"] == "public, max-age=600"
