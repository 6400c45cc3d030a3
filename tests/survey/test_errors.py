"""When the database is busy (SQLite's write lock held past the busy timeout, a PostgreSQL lock
or statement timeout), the answer is a 503 that asks to retry, in the user's language, with
nothing half-written; other database faults stay 500s."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from sqlalchemy.exc import OperationalError

from survey import responses
from survey.extensions import db
from survey.models import Response
from tests.conftest import count, form_fields, text_of
from tests.survey.api.conftest import bearer


def failing_record(reason: str):
    """`record` that gets as far as writing a response, then meets the database error."""

    def record(submission):
        stored, _created = responses.record(submission)
        db.session.add(
            Response(
                **{c.key: getattr(stored, c.key) for c in Response.__table__.c if c.key != "id"}
                | {"id": uuid.uuid4(), "form_key": None}
            )
        )
        db.session.flush()  # in the transaction now
        raise OperationalError("INSERT INTO response ...", {}, sqlite3.OperationalError(reason))

    return record


def test_a_busy_database_asks_the_citizen_to_send_again(app, client, survey_path, monkeypatch):
    monkeypatch.setattr("survey.citizen.views.record", failing_record("database is locked"))
    fields = form_fields(client.get(survey_path))
    response = client.post(survey_path, data={**fields, "rating": "hai_long"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert text_of(response, "h1") == "Hệ thống đang bận"
    assert "chưa được lưu" in text_of(response, "main")
    # The one row record() committed stays; the one in the failed transaction is gone.
    assert count(Response) == 1


def test_a_busy_database_is_a_problem_document_on_the_api(app, client, desk, api_key, monkeypatch):
    monkeypatch.setattr("survey.api.responses.record", failing_record("database is locked"))
    body = {"id": str(uuid.uuid4()), "desk": desk.code, "level": "hai_long"}
    response = client.post("/api/v1/responses", json=body, headers=bearer(api_key))
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.json["status"] == 503 and response.json["title"] == "Hệ thống đang bận"
    assert count(Response) == 1


def test_other_database_faults_stay_server_errors(app, client, survey_path, monkeypatch):
    monkeypatch.setattr("survey.citizen.views.record", failing_record("no such table: answer"))
    fields = form_fields(client.get(survey_path))
    response = client.post(survey_path, data={**fields, "rating": "hai_long"})
    assert response.status_code == 500
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("sqlstate", "busy"),
    [("55P03", True), ("57014", True), ("40P01", True), ("08006", True), ("42P01", False)],
)
def test_postgresql_lock_and_timeout_errors_count_as_busy(sqlstate, busy):
    from survey.errors import database_busy

    class DriverError(Exception):
        pass

    error = DriverError("server said no")
    error.sqlstate = sqlstate
    assert database_busy(OperationalError("SELECT 1", {}, error)) is busy


# ---- NUL characters: not text, and refused by PostgreSQL in text columns ----------------------

NUL = "Nội dung gửi lên chứa ký tự NUL (\\0), không phải là văn bản. Vui lòng nhập lại."


def test_a_nul_in_a_query_string_is_a_400_problem(app, client, api_key):
    response = client.get(
        "/api/v1/agencies", query_string={"agency": "\x00"}, headers=bearer(api_key)
    )
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.json["detail"] == NUL


def test_a_nul_in_a_json_body_is_refused_and_stores_nothing(app, client, desk, api_key):
    body = {"id": str(uuid.uuid4()), "desk": desk.code, "level": "hai_long", "comment": "a\x00b"}
    response = client.post("/api/v1/responses", json=body, headers=bearer(api_key))
    assert response.status_code == 400 and response.json["detail"] == NUL
    assert count(Response) == 0


def test_a_nul_in_the_citizen_form_is_refused_and_stores_nothing(app, client, survey_path):
    fields = form_fields(client.get(survey_path))
    response = client.post(survey_path, data={**fields, "rating": "hai_long", "comment": "a\x00b"})
    assert response.status_code == 400
    assert NUL in text_of(response, "main")
    assert count(Response) == 0
