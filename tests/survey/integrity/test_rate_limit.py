"""Rate limits on the citizen POSTs: per client and page, in memory or in Redis."""

from __future__ import annotations

import os

import pytest

from survey.models import Response
from tests.conftest import count, form_fields, text_of

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture(params=["memory", "redis"])
def app_config(request, database_url):
    config = {"RATELIMIT_ENABLED": True, "CITIZEN_RATE_LIMIT": "3 per minute"}
    if request.param == "redis":
        if not TEST_REDIS_URL:
            from tests.conftest import missing_service

            missing_service("Redis rate-limit tests need TEST_REDIS_URL (bash .ci/run sets it)")
        config["RATELIMIT_STORAGE_URI"] = TEST_REDIS_URL
    else:
        config["RATELIMIT_STORAGE_URI"] = "memory://"
    return config


def post(client, path, address="203.0.113.9"):
    # ?new=1: a new response id, not the one the browser remembers from its last rating.
    fields = form_fields(client.get(path + "?new=1", environ_base={"REMOTE_ADDR": address}))
    return client.post(
        path, data={**fields, "rating": "hai_long"}, environ_base={"REMOTE_ADDR": address}
    )


def test_a_flood_from_one_client_gets_a_friendly_429_after_the_limit(client, survey_path):
    codes = [post(client, survey_path).status_code for _ in range(5)]
    assert codes == [303, 303, 303, 429, 429]
    assert count(Response) == 3
    refused = post(client, survey_path)
    assert refused.status_code == 429
    assert text_of(refused, "h1") == "Quá nhiều yêu cầu"
    assert "Retry-After" in refused.headers


def test_reading_the_form_is_not_limited(client, survey_path):
    for _ in range(6):
        assert client.get(survey_path).status_code == 200


def test_other_clients_and_other_desks_keep_their_own_count(client, survey_path, make_desk):
    from survey.tokens import desk_token

    for _ in range(3):
        post(client, survey_path)
    assert post(client, survey_path, address="198.51.100.1").status_code == 303
    assert post(client, f"/s/{desk_token(make_desk().id)}").status_code == 303


def test_the_limit_key_holds_no_raw_address(app, client, survey_path):
    from survey.extensions import limiter

    address = "198.51.100.23"
    post(client, survey_path, address=address)
    backend = limiter.storage.storage  # a dict in memory, a client for Redis
    if isinstance(backend, dict):
        keys = list(backend)
    else:
        keys = [key.decode() for key in backend.keys("*")]
    assert keys, "expected a counter in the limiter storage"
    assert not [key for key in keys if address in key]


def test_the_ticket_page_is_limited_too(client, make_ticket):
    _, path = make_ticket()
    fields = form_fields(client.get(path))
    codes = [
        client.post(path, data={**fields, "comment": "x" * 1001}).status_code for _ in range(3)
    ]
    assert codes == [400, 400, 400]  # refused by validation, but counted
    assert client.post(path, data={**fields, "rating": "hai_long"}).status_code == 429
    assert count(Response) == 0
