"""Schemathesis, an OpenAPI fuzzer nobody on this project wrote, against the live app.

It reads /api/v1/openapi.json, generates requests from it (the schema's examples, boundary
values of every field, then random data) and sends them to the Flask app through its WSGI
interface, with a valid API key (every scope) and with a kiosk token (the kiosk routes and
POST /responses). Its checks:

- no 5xx (`not_a_server_error`);
- every status, content type, header and body the server answers is the one documented
  (`status_code_conformance`, `content_type_conformance`, `response_headers_conformance`,
  `response_schema_conformance`);
- a request the document says is valid is not refused as malformed (`positive_data_acceptance`):
  the API's contract is that 400 means "breaks the document" and 422 "follows it, but names
  something the server does not know" (an unknown desk or level code, docs/api.md); so a 400
  on a request generated from the schema is a disagreement between the two;
- a request the document says is invalid is refused (`negative_data_rejection`).

The run is deterministic (a fixed seed, no example database) and sized for CI: see EXAMPLES.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from survey.credentials import API_KEY_SCOPES, issue_api_key, issue_kiosk_token
from survey.extensions import db
from survey.models import Kiosk
from tests.survey.api.conftest import bearer

# Random examples per operation and generation mode (positive and negative), on top of the
# schema's examples and the boundary ("coverage") cases schemathesis derives from every field.
EXAMPLES = 12
SEED = 20261130
# Below this, a change in schemathesis or in the document has shrunk the run without anyone
# deciding it (each of the two tests sends about 100-600 requests per database).
MIN_REQUESTS = 90


def config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
                # Every request with a NUL character anywhere is refused (survey/inputs.py, a
                # 400 for all routes, in docs/api.md): not a per-field rule of the document.
                "allow-x00": False,
            },
            # Nothing feeds back from the server's answers (which hold times, tokens and ids
            # that differ on every run) into what is generated: the same requests every run.
            "analysis": {"constants": {"enabled": False}},
            "phases": {
                "stateful": {"enabled": False},
                "examples": {"extra-data-sources": {"responses": False}},
                "coverage": {"extra-data-sources": {"responses": False}},
                "fuzzing": {
                    "extra-data-sources": {"responses": False},
                    "error-feedback": {"enabled": False},
                },
            },
            "checks": {
                # Refusals a valid request may get: credentials and scope (401, 403), the
                # report's unknown agency (404), a conflicting retry (409), or a code the
                # document cannot enumerate (422). Never a 400.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                },
            },
        }
    )


@pytest.fixture
def world(app, make_agency, make_desk):
    """A desk whose code is the document's example, an API key with every scope and a kiosk at
    that desk. Afterwards: the run was the size it should be, and every operation accepted some
    of the requests (so "valid requests are not refused" was put to the test, not only 422s)."""
    agency = make_agency(code="SYT", name="Sở Y tế")
    desk = make_desk(agency=agency, code="SYT-01")
    _, api_key = issue_api_key("schemathesis", list(API_KEY_SCOPES))
    kiosk = Kiosk(desk=desk, name="schemathesis")
    db.session.add(kiosk)
    kiosk_token = issue_kiosk_token(kiosk)
    db.session.commit()
    statuses: dict[str, Counter] = defaultdict(Counter)
    yield {"api key": api_key, "kiosk": kiosk_token, "statuses": statuses}
    sent = sum(sum(counts.values()) for counts in statuses.values())
    print(
        f"schemathesis sent {sent} requests: "
        + ", ".join(
            f"{label} {dict(sorted(counts.items()))}" for label, counts in sorted(statuses.items())
        )
    )
    assert sent >= MIN_REQUESTS, f"only {sent} requests"
    never_accepted = [
        label for label, counts in statuses.items() if not any(k.startswith("2") for k in counts)
    ]
    assert not never_accepted, f"no request was accepted by {never_accepted}"


def _call(case, world, token: str) -> None:
    """Send `case` with `token` and run every check. A valid rating's `client_time` is moved to
    now: the document cannot give the server's 30-day window as a fixed range, and a kiosk
    rating without a usable time is never accepted."""
    if case.meta.generation.mode.is_positive and isinstance(case.body, dict):
        if "client_time" in case.body:
            case.body["client_time"] = datetime.now(UTC).isoformat()
    response = case.call_and_validate(headers=bearer(token))
    # Keyed by the method sent: schemathesis also tries undocumented methods (405 expected).
    sent = "" if case.method.upper() == case.operation.method.upper() else f"{case.method} "
    world["statuses"][case.operation.label][f"{sent}{response.status_code}"] += 1


@pytest.fixture
def api_schema(app, world):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config())


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(tag="kiosk").parametrize()
def test_the_api_with_an_api_key_agrees_with_its_document(case, world):
    _call(case, world, world["api key"])


@schema.include(tag="kiosk").include(path="/responses").parametrize()
def test_the_kiosk_api_with_a_kiosk_token_agrees_with_its_document(case, world):
    _call(case, world, world["kiosk"])
