"""create-api-key, list-api-keys, revoke-api-key and purge."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, ApiKey, AuditLog, Response, Status, Ticket
from tests.conftest import count
from tests.survey.integrity.conftest import bearer

KEY = re.compile(r"\bhl_[0-9a-f]{12}_[\w-]+")


def test_create_api_key_shows_the_key_once_and_stores_only_its_hash(runner, client, make_agency):
    agency = make_agency(code="STP")
    result = runner.invoke(
        args=["create-api-key", "--name", "iGate", "--scope", "directory:read", "--agency", "STP"]
    )
    assert result.exit_code == 0, result.output
    key = KEY.search(result.output).group(0)
    row = db.session.scalar(sa.select(ApiKey))
    assert row.scopes == ["directory:read"] and row.agency_id == agency.id
    assert key not in row.key_hash and len(row.key_hash) == 64
    assert client.get("/api/v1/agencies", headers=bearer(key)).status_code == 200
    listing = runner.invoke(args=["list-api-keys"])
    assert row.prefix in listing.output and key not in listing.output
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "api_key.create"))
    assert entry.target == row.prefix and entry.actor == "system"


def test_create_api_key_refuses_unknown_scopes_and_agencies(runner):
    bad_scope = runner.invoke(args=["create-api-key", "--name", "x", "--scope", "root"])
    assert bad_scope.exit_code == 2 and "root" in bad_scope.output
    bad_agency = runner.invoke(
        args=["create-api-key", "--name", "x", "--scope", "tickets:write", "--agency", "NOPE"]
    )
    assert bad_agency.exit_code == 2 and "NOPE" in bad_agency.output
    no_scope = runner.invoke(args=["create-api-key", "--name", "x"])
    assert no_scope.exit_code == 2
    assert count(ApiKey) == 0


def test_a_revoked_key_stops_working_at_once(runner, client):
    created = runner.invoke(args=["create-api-key", "--name", "iGate", "--scope", "directory:read"])
    key = KEY.search(created.output).group(0)
    result = runner.invoke(args=["revoke-api-key", key.split("_")[1]])
    assert result.exit_code == 0 and "Revoked" in result.output
    assert client.get("/api/v1/desks", headers=bearer(key)).status_code == 401
    again = runner.invoke(args=["revoke-api-key", key.split("_")[1]])
    assert "already revoked" in again.output
    assert runner.invoke(args=["revoke-api-key", "nope"]).exit_code == 1
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "api_key.revoke"))
        == 1
    )


def _response(desk, occurred_at, ticket=None):
    questionnaire = desk.current_questionnaire()
    row = Response(
        id=uuid.uuid4(),
        desk_id=desk.id,
        agency_id=desk.agency_id,
        questionnaire_id=questionnaire.id,
        channel="qr",
        level="hai_long",
        satisfied=True,
        occurred_at=occurred_at,
        received_at=occurred_at,
        content_hash="x",
        status=Status.VALID,
        ticket_id=ticket.id if ticket else None,
        answers=[Answer(criterion="attitude", level="hai_long", satisfied=True)],
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_purge_counts_first_and_deletes_only_with_yes(runner, desk, make_ticket):
    old_ticket, _ = make_ticket()
    old_ticket.created_at = datetime(2025, 12, 1)
    db.session.commit()
    _response(desk, datetime(2025, 12, 31, 16, 59), ticket=old_ticket)  # 23:59 local, 31 Dec
    _response(desk, datetime(2025, 12, 31, 17, 0))  # 00:00 local, 1 Jan: kept
    dry = runner.invoke(args=["purge", "--before", "2026-01-01"])
    assert dry.exit_code == 0
    assert "Would delete 1 responses, 1 answers and 1 tickets" in dry.output
    assert count(Response) == 2

    done = runner.invoke(args=["purge", "--before", "2026-01-01", "--yes"])
    assert done.exit_code == 0, done.output
    assert count(Response) == 1 and count(Answer) == 1 and count(Ticket) == 0
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "responses.purge"))
    assert entry.detail == {"responses": 1, "answers": 1, "tickets": 1, "cases": 0}


def test_purge_keeps_a_ticket_used_by_a_kept_response(runner, desk, make_ticket):
    ticket, _ = make_ticket()
    ticket.created_at = datetime(2025, 12, 30)
    db.session.commit()
    _response(desk, datetime(2026, 1, 5), ticket=ticket)
    runner.invoke(args=["purge", "--before", "2026-01-01", "--yes"])
    assert count(Ticket) == 1 and count(Response) == 1


def test_purge_refuses_a_bad_or_future_date(runner):
    assert runner.invoke(args=["purge", "--before", "31/12/2025"]).exit_code == 2
    future = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%d")
    result = runner.invoke(args=["purge", "--before", future, "--yes"])
    assert result.exit_code == 2 and "future" in result.output
