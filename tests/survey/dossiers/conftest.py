"""Shared by the dossier tests: messages in English, files of rows, the stored tickets."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from survey.dossiers import DOSSIER_HEADER
from survey.extensions import db
from survey.models import Ticket
from tests.survey.admin.files import to_csv, to_xlsx


@pytest.fixture(autouse=True)
def request_context(app):
    """Messages are translated; in English here (?lang=en) so the tests can read them."""
    with app.test_request_context("/?lang=en"):
        yield


def dossier_file(rows, header=DOSSIER_HEADER, xlsx=False) -> io.BytesIO:
    return io.BytesIO(to_xlsx(header, rows) if xlsx else to_csv(header, rows))


def stored_tickets() -> dict[str, Ticket]:
    db.session.expire_all()
    return {t.dossier_code: t for t in db.session.scalars(sa.select(Ticket))}
