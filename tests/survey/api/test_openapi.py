"""The OpenAPI document matches the routes under /api/v1/, both ways."""

from __future__ import annotations

import re

from survey.api.openapi import document

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def api_routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every rule under /api/v1/, e.g. ('/kiosks/{kiosk_id}', 'get')."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - IGNORED_METHODS:
            routes.add((path, method.lower()))
    return routes


def documented(doc) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(path, m) for path, item in doc["paths"].items() for m in item if m in methods}


def test_every_api_route_is_documented(app):
    assert {("/responses", "post"), ("/report", "get")} <= api_routes(app), "no API routes found"
    missing = api_routes(app) - documented(document())
    assert not missing, f"routes missing from openapi.PATHS: {sorted(missing)}"


def test_every_documented_operation_exists(app):
    assert {("/responses", "post"), ("/report", "get")} <= documented(document())
    extra = documented(document()) - api_routes(app)
    assert not extra, f"documented but not routed: {sorted(extra)}"


def test_the_document_is_served_and_well_formed(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.")
    assert {"/responses", "/tickets", "/agencies", "/desks"} <= set(doc["paths"])
    operation_ids = [
        op["operationId"]
        for item in doc["paths"].values()
        for op in item.values()
        if "operationId" in op
    ]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_schema_reference_resolves(client):
    doc = client.get("/api/v1/openapi.json").json
    refs = set(re.findall(r"#/components/(\w+)/(\w+)", str(doc)))
    assert ("schemas", "Problem") in refs, "expected the operations to refer to shared schemas"
    for ref in refs:
        section, name = ref
        assert name in doc["components"][section], ref


def test_every_operation_documents_its_errors_as_problems(client):
    doc = client.get("/api/v1/openapi.json").json
    checked = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op or path == "/openapi.json":
                continue
            errors = [code for code in op["responses"] if code.startswith(("4", "5"))]
            assert errors, (path, method)
            checked.append((path, method))
    assert {("/responses", "post"), ("/report", "get")} <= set(checked)
