"""Fuzzing (hypothesis) of every API endpoint and of the citizen and ticket forms: whatever is
sent, the answer is never a 5xx, and a refused request writes nothing.

About 2,100 cases per backend: API JSON bodies 700, raw bodies 250, query strings 250, citizen
form 600, ticket form 300. The endpoints and their fields come from app.url_map and the OpenAPI
document, so endpoints added later are fuzzed too.
"""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.api.openapi import document
from survey.credentials import API_KEY_SCOPES, issue_api_key, issue_kiosk_token
from survey.extensions import db
from survey.models import Answer, Kiosk, Response, Ticket
from survey.tickets.service import TicketRequest, issue, ticket_token
from tests.conftest import csrf_token, form_fields

FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LEVELS = ["rat_hai_long", "hai_long", "khong_hai_long"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=80),
    st.sampled_from(
        LEVELS + ["", " ", "0", "2026-11-21", "2026-02-30", "2026-11-21T09:00:00+07:00"]
    ),
    st.uuids().map(str),
    st.text(alphabet="0123456789 .+-()", max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def rows() -> tuple[int, int, int]:
    """Rows in the tables a request could write to, in one query."""
    db.session.expire_all()
    counts = [
        sa.select(sa.func.count()).select_from(model).scalar_subquery()
        for model in (Response, Answer, Ticket)
    ]
    return tuple(db.session.execute(sa.select(*counts)).one())


def api_operations(app) -> list[tuple[str, str, list[str]]]:
    """(method, path, body field names) of every API route, from the url_map and OpenAPI."""
    doc = document()
    schemas = doc["components"]["schemas"]
    operations = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.arguments:
            continue
        item = doc["paths"].get(rule.rule.removeprefix("/api/v1"), {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = item.get(method.lower(), {})
            ref = (
                op.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref", "")
            )
            fields = list(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            operations.append((method, rule.rule, fields))
    return sorted(operations)


@pytest.fixture
def credentials(app, desk):
    api_key_row, api_key = issue_api_key("fuzz", list(API_KEY_SCOPES))
    kiosk = Kiosk(desk=desk, name="fuzz")
    db.session.add(kiosk)
    kiosk_token = issue_kiosk_token(kiosk)
    db.session.commit()
    return {"api key": api_key, "kiosk": kiosk_token, "none": None, "bad": "hl_000000000000_x"}


def _headers(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def _check(response, before):
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert rows() == before, "a refused request wrote rows"
        if response.request.path.startswith("/api/"):
            assert response.content_type == "application/problem+json"


def test_api_json_bodies_never_cause_a_5xx_or_stray_rows(app, client, desk, credentials):
    operations = [op for op in api_operations(app) if op[0] != "GET"]
    assert operations, "expected API endpoints that take a body"

    @settings(FUZZ, max_examples=700)
    @given(
        operation=st.sampled_from(operations),
        who=st.sampled_from(sorted(credentials)),
        data=st.data(),
    )
    def fuzz(operation, who, data):
        method, path, fields = operation
        keys = st.sampled_from(fields + ["id", "desk", "extra"]) if fields else st.text(max_size=8)
        body = data.draw(st.dictionaries(keys, json_values, max_size=7) | json_values)
        if data.draw(st.booleans()) and isinstance(body, dict):
            body.setdefault("desk", desk.code)
            body.setdefault("id", str(uuid.uuid4()))
        before = rows()
        response = client.open(path, method=method, json=body, headers=_headers(credentials[who]))
        _check(response, before)

    fuzz()


def test_api_raw_bodies_never_cause_a_5xx_or_stray_rows(app, client, credentials):
    operations = [op for op in api_operations(app) if op[0] != "GET"]

    @settings(FUZZ, max_examples=250)
    @given(
        operation=st.sampled_from(operations),
        body=st.binary(max_size=300),
        content_type=st.sampled_from(
            [
                "application/json",
                "text/plain",
                "application/x-www-form-urlencoded",
                "",
                "application/json; charset=latin-1",
            ]
        ),
    )
    def fuzz(operation, body, content_type):
        method, path, _ = operation
        before = rows()
        response = client.open(
            path,
            method=method,
            data=body,
            content_type=content_type or None,
            headers=_headers(credentials["api key"]),
        )
        _check(response, before)

    fuzz()


def test_api_query_strings_never_cause_a_5xx(app, client, credentials):
    operations = [op for op in api_operations(app) if op[0] == "GET"]
    assert len(operations) >= 3

    @settings(FUZZ, max_examples=250)
    @given(
        operation=st.sampled_from(operations),
        query=st.dictionaries(
            st.sampled_from(["agency", "period", "from", "to", "kind", "format", "page", "x"]),
            st.text(max_size=30),
            max_size=4,
        ),
        who=st.sampled_from(["api key", "kiosk", "none"]),
    )
    def fuzz(operation, query, who):
        _, path, _ = operation
        before = rows()
        response = client.get(path, query_string=query, headers=_headers(credentials[who]))
        _check(response, before)

    fuzz()


form_values = st.one_of(
    st.sampled_from(LEVELS),
    st.text(max_size=60),
    st.text(alphabet="0123456789 .+-", max_size=16),
    st.uuids().map(str),
    st.just("x" * 1001),
)


def _form_fuzz(client, path, examples, with_dossier):
    fields = form_fields(client.get(path))
    token = fields["csrf_token"]
    names = [
        "rating",
        "comment",
        "response_id",
        "c_attitude",
        "c_total_time",
        "csrf_token",
        "other",
    ]
    if with_dossier:
        names.append("dossier_code")

    @settings(FUZZ, max_examples=examples)
    @given(
        form=st.dictionaries(st.sampled_from(names), form_values, max_size=6),
        keep_token=st.booleans(),
    )
    def fuzz(form, keep_token):
        if keep_token:
            form["csrf_token"] = token
        before = rows()
        response = client.post(path, data=form)
        assert response.status_code < 500
        if response.status_code != 303:
            assert rows() == before, "a refused form wrote rows"

    fuzz()


def test_the_citizen_form_never_causes_a_5xx_or_stray_rows(client, survey_path):
    _form_fuzz(client, survey_path, 600, with_dossier=True)


def test_the_ticket_form_never_causes_a_5xx_or_stray_rows(client, desk):
    ticket, _ = issue(TicketRequest(desk=desk, dossier_code="FUZZ-1"))
    _form_fuzz(client, f"/t/{ticket_token(ticket)}", 300, with_dossier=False)
    assert rows()[0] <= 1  # one ticket, at most one response
    assert csrf_token(client.get("/auth/login"))


SURROGATES = ["\\ud800", "\\udfff", "a\\ud83d", "\\udc00b"]  # lone halves, as JSON escapes


def test_api_deeply_nested_and_lone_surrogate_bodies_are_a_400(app, client, desk, credentials):
    """Issue 12, finding 9: a body nested 1,000+ levels deep (RecursionError) or with a lone
    surrogate escape (UnicodeEncodeError in the digest, the desk lookup, the ticket) is a 400
    problem document on every API route, decided where the JSON is parsed."""
    operations = [op for op in api_operations(app) if op[0] != "GET"]
    assert operations

    @settings(FUZZ, max_examples=150)
    @given(
        operation=st.sampled_from(operations),
        who=st.sampled_from(sorted(credentials)),
        kind=st.sampled_from(["deep", "surrogate value", "surrogate key"]),
        depth=st.integers(min_value=25, max_value=100_000),
        surrogate=st.sampled_from(SURROGATES),
        where=st.sampled_from(
            ["desk", "level", "comment", "dossier_code", "procedure", "id", "agency", "x"]
        ),
        opener=st.sampled_from(["[", '{"a":']),
    )
    def fuzz(operation, who, kind, depth, surrogate, where, opener):
        method, path, _fields = operation
        if kind == "deep":
            body = opener * depth
        else:
            fields = {"id": str(uuid.uuid4()), "desk": desk.code, "level": "hai_long"}
            fields["dossier_code"] = "HS-1"
            text = json.dumps(fields)[:-1]
            if kind == "surrogate value":
                body = text + f', "{where}": "{surrogate}"}}'
            else:
                body = text + f', "{surrogate}": "x"}}'
        before = rows()
        response = client.open(
            path,
            method=method,
            data=body.encode(),
            content_type="application/json",
            headers=_headers(credentials[who]),
        )
        _check(response, before)
        if credentials[who] and response.status_code not in (401, 403, 405):
            assert response.status_code == 400, (kind, path, response.status_code)

    fuzz()
