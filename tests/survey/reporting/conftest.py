"""Fixtures of the reporting tests: responses written in bulk."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.models import Questionnaire, Response, Status


def insert_responses(
    desk, satisfied: int, unsatisfied: int, at: datetime, status=Status.VALID
) -> None:
    """Store QR ratings of `desk` at `at` in one INSERT: `satisfied` happy, `unsatisfied` not."""
    questionnaire_id = Questionnaire.default().id
    rows = []
    for happy in [True] * satisfied + [False] * unsatisfied:
        rid = uuid.uuid4()
        rows.append(
            {
                "id": rid,
                "desk_id": desk.id,
                "agency_id": desk.agency_id,
                "questionnaire_id": questionnaire_id,
                "channel": "qr",
                "level": "hai_long" if happy else "khong_hai_long",
                "satisfied": happy,
                "occurred_at": at,
                "received_at": at,
                "status": status.value,
                "content_hash": hashlib.sha256(rid.bytes).hexdigest(),
            }
        )
    db.session.execute(sa.insert(Response), rows)
    db.session.commit()


@pytest.fixture
def add_responses(app):
    return insert_responses
