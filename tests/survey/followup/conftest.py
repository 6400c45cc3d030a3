"""The follow-up tests' frame of returned dossiers, and its draw with planted calls."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from survey.extensions import db
from survey.followup.models import FollowupItem
from survey.followup.service import (
    draw,
    record_outcome,
)
from survey.models import Channel, Level, Ticket
from survey.responses import Submission, record


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context("/?lang=en"):
        yield


@pytest.fixture
def frame(make_agency, make_desk):
    """Two communes under a province: 60 and 30 dossiers returned in 2026-Q3, plus dossiers
    not returned, returned in another quarter, or in another province."""
    province = make_agency(code="HL", level=Level.PROVINCE)
    a = make_agency(code="XA", parent=province)
    b = make_agency(code="XB", parent=province)
    other = make_agency(code="HB", level=Level.PROVINCE)
    desks = {"XA": make_desk(agency=a, code="QA"), "XB": make_desk(agency=b, code="QB")}
    outside = make_desk(agency=other, code="QO")
    returned = {"XA": [], "XB": []}

    def ticket(desk, code, returned_date):
        t = Ticket(
            token_hash=uuid.uuid4().hex,
            dossier_code=code,
            desk_id=desk.id,
            returned_date=returned_date,
            created_at=datetime(2026, 7, 1),
            expires_at=datetime(2026, 12, 1),
        )
        db.session.add(t)
        return t

    for i in range(60):
        returned["XA"].append(ticket(desks["XA"], f"A-{i}", date(2026, 7, 1) + timedelta(days=i)))
    for i in range(30):
        returned["XB"].append(ticket(desks["XB"], f"B-{i}", date(2026, 8, 1) + timedelta(days=i)))
    for i in range(10):
        ticket(desks["XA"], f"N-{i}", None)  # not returned
        ticket(desks["XB"], f"Q2-{i}", date(2026, 6, 30))  # returned in Q2
        ticket(outside, f"O-{i}", date(2026, 8, 1))  # another province
    db.session.commit()
    return province, {"XA": a, "XB": b}, desks, returned


def self_rating(desk, satisfied: bool, when: datetime):
    record(
        Submission(
            id=uuid.uuid4(),
            desk=desk,
            questionnaire=desk.current_questionnaire(),
            channel=Channel.KIOSK,
            level="hai_long" if satisfied else "khong_hai_long",
            occurred_at=when,
        )
    )


@pytest.fixture
def called(frame):
    """Every returned dossier of HL drawn and called (answered, refused or unreachable by the
    item's order; satisfied or not by a fixed pattern), beside self-selected kiosk ratings:
    XA 95 of 100 satisfied (steered), XB 20 of 30. Returns the draw, the calls' tallies by
    agency code and the self-selected counts."""
    _province, agencies, desks, _returned = frame
    followup = draw("2026-Q3", 90, agency_code="HL", seed=11)
    for i in range(100):
        self_rating(desks["XA"], i < 95, datetime(2026, 7, 2, 3) + timedelta(hours=5 * i))
    for i in range(30):
        self_rating(desks["XB"], i < 20, datetime(2026, 8, 2, 3) + timedelta(hours=5 * i))
    planted = {}
    for n, item in enumerate(db.session.scalars(sa.select(FollowupItem).order_by(FollowupItem.id))):
        code = "XA" if item.agency_id == agencies["XA"].id else "XB"
        k = planted.setdefault(
            code, {"answered": 0, "satisfied": 0, "refused": 0, "unreachable": 0}
        )
        if n % 6 == 5:
            outcome = "refused"
        elif n % 6 == 4:
            outcome = "unreachable"
        else:
            outcome = "answered"
        satisfied = (n % 3 != 0) if code == "XA" else (n % 3 != 2)
        if outcome == "answered":
            record_outcome(
                item,
                "answered",
                level="hai_long" if satisfied else "khong_hai_long",
                answers={"attitude": "rat_hai_long"},
                actor="tests",
            )
            k["answered"] += 1
            k["satisfied"] += satisfied
        else:
            record_outcome(item, outcome, actor="tests")
            k[outcome] += 1
    return followup, planted, {"XA": (95, 100), "XB": (20, 30)}
