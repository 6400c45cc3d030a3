"""Fixtures for the integrity tests: tickets, API keys and kiosks, flagged responses."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from survey.extensions import db
from survey.models import Channel, Response, Status, utcnow
from survey.tickets.service import TicketRequest, issue, ticket_token
from tests.survey.api.conftest import bearer, make_api_key, make_kiosk  # noqa: F401


@pytest.fixture
def make_ticket(app, desk):
    def make(dossier_code=None, for_desk=None, **kw):
        ticket, _ = issue(
            TicketRequest(
                desk=for_desk or desk,
                dossier_code=dossier_code or f"H01.{uuid.uuid4().hex[:8]}",
                **kw,
            )
        )
        return ticket, f"/t/{ticket_token(ticket)}"

    return make


@pytest.fixture
def make_response(app):
    """A stored response, written directly (no rules), for review and scope tests."""

    def make(desk, status=Status.FLAGGED, reason="client_burst", level="hai_long", **kw):
        questionnaire = desk.current_questionnaire()
        now = utcnow()
        response = Response(
            id=uuid.uuid4(),
            desk_id=desk.id,
            agency_id=desk.agency_id,
            questionnaire_id=questionnaire.id,
            channel=kw.pop("channel", Channel.QR),
            level=level,
            satisfied=questionnaire.is_satisfied(level),
            occurred_at=kw.pop("occurred_at", now - timedelta(minutes=5)),
            received_at=now,
            status=status,
            status_reason=reason,
            content_hash=uuid.uuid4().hex,
            **kw,
        )
        db.session.add(response)
        db.session.commit()
        return response

    return make
