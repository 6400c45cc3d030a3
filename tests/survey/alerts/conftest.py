"""A real SMTP server on localhost (aiosmtpd) and factories of ratings for the alerts tests."""

from __future__ import annotations

import email
import socket
import uuid
from datetime import datetime, timedelta
from email import policy

import numpy as np
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from survey.extensions import db
from survey.models import Channel, Response, Status, utcnow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What the SMTP server received, parsed."""

    def __init__(self, port: int):
        self.port = port
        self.received: list[email.message.EmailMessage] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.received if m["To"] == address]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port):
    """An SMTP server that is up; `inbox.stop()` takes it down, `inbox.start()` up again."""
    server = Inbox(smtp_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(database_url, smtp_port):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_DEFAULT_SENDER": "Hài lòng <hailong@example.gov.vn>",
        "PUBLIC_BASE_URL": "https://hailong.example.gov.vn",
    }


@pytest.fixture
def add_ratings(app):
    """Insert `n` valid ratings of `desk` directly (fast), a share of them dissatisfied."""

    def add(
        desk,
        n: int,
        dissatisfied: float,
        start: datetime,
        end: datetime,
        received: datetime | None = None,
        channel: Channel = Channel.QR,
        seed: int = 0,
    ):
        rng = np.random.default_rng(seed)
        questionnaire = desk.current_questionnaire()
        span = (end - start).total_seconds()
        rows = []
        for offset, bad in zip(
            np.sort(rng.random(n)) * span, rng.random(n) < dissatisfied, strict=True
        ):
            at = start + timedelta(seconds=float(offset))
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "desk_id": desk.id,
                    "agency_id": desk.agency_id,
                    "questionnaire_id": questionnaire.id,
                    "channel": channel,
                    "level": "khong_hai_long" if bad else "hai_long",
                    "satisfied": not bad,
                    "occurred_at": at,
                    "received_at": received or at,
                    "status": Status.VALID,
                    "content_hash": uuid.uuid4().hex,
                }
            )
        db.session.execute(sa.insert(Response), rows)
        db.session.commit()

    return add


@pytest.fixture
def now():
    return utcnow().replace(microsecond=0)
