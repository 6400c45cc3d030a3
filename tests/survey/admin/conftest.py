"""Fixtures for the administration: a signed-in administrator, responses, form posting."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from survey.models import Channel, Questionnaire, Role
from survey.responses import Submission, record
from tests.conftest import csrf_token


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, email="admin@example.org")


@pytest.fixture
def admin_client(client, login, admin):
    login(admin)
    return client


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with a valid CSRF token taken from an admin page."""
    token = csrf_token(client.get("/admin/"))
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


@pytest.fixture
def make_response(app):
    """Store a response for `desk` at `when` (naive UTC) through the one storing function."""

    def make(desk, when: datetime, level: str = "hai_long", channel=Channel.QR):
        response, _created = record(
            Submission(
                id=uuid.uuid4(),
                desk=desk,
                questionnaire=desk.current_questionnaire() or Questionnaire.default(),
                channel=channel,
                level=level,
                occurred_at=when,
            )
        )
        return response

    return make
