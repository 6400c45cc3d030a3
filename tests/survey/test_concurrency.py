"""Acknowledged responses are never lost or double-counted, even when retries race."""

from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Response
from tests.conftest import count
from tests.survey.api.conftest import bearer


def _hammer(app, bodies, headers, results):
    client = app.test_client()
    for body in bodies:
        response = client.post("/api/v1/responses", json=body, headers=headers)
        results.append((body["id"], response.status_code))


def test_racing_retries_of_one_id_store_exactly_one_row(app, desk, api_key):
    body = {
        "id": str(uuid.uuid4()),
        "desk": desk.code,
        "level": "hai_long",
        "answers": {"attitude": "hai_long"},
    }
    results: list = []
    threads = [
        threading.Thread(target=_hammer, args=(app, [body] * 5, bearer(api_key), results))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = [status for _, status in results]
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201}
    assert count(Response) == 1
    assert count(Answer) == 1


def test_concurrent_distinct_submissions_are_all_stored(app, desk, api_key):
    results: list = []
    batches = [
        [{"id": str(uuid.uuid4()), "desk": desk.code, "level": "rat_hai_long"} for _ in range(15)]
        for _ in range(6)
    ]
    # Every client resends its first submission, as a flaky network would.
    for batch in batches:
        batch.append(dict(batch[0]))
    threads = [
        threading.Thread(target=_hammer, args=(app, batch, bearer(api_key), results))
        for batch in batches
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    acknowledged = {rid for rid, status in results if status in (200, 201)}
    assert len(results) == 6 * 16
    assert all(status in (200, 201) for _, status in results)
    stored = {str(rid) for rid in db.session.scalars(sa.select(Response.id))}
    assert stored == acknowledged
    assert len(stored) == 6 * 15
