"""The follow-up from the command line: the draw with its call list, and the purge."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from survey.extensions import db
from survey.followup.models import FollowupDraw, FollowupItem
from survey.followup.service import (
    draw,
    record_outcome,
)
from survey.models import Channel, Response, Ticket


def test_the_cli_draws_and_writes_the_call_list(frame, runner, tmp_path):
    out = tmp_path / "calls.csv"
    result = runner.invoke(
        args=[
            "followup",
            "draw",
            "--period",
            "2026-Q3",
            "--size",
            "9",
            "--seed",
            "42",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "seed 42" in result.output
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 10
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupDraw)) == 1
    bad = runner.invoke(args=["followup", "draw", "--period", "2026-Q9", "--size", "9"])
    assert bad.exit_code != 0


def test_the_purge_takes_follow_up_entries_with_their_tickets(frame, runner):
    followup = draw("2026-Q3", 6, agency_code="XA", seed=2)
    answered = followup.items[0]
    record_outcome(answered, "answered", level="hai_long", actor="tests")
    db.session.execute(sa.update(Ticket).values(created_at=datetime(2026, 7, 1)))
    db.session.execute(sa.update(Response).values(occurred_at=datetime(2026, 7, 5)))
    db.session.commit()
    result = runner.invoke(args=["purge", "--before", "2026-08-01", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowupItem)) == 0
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Response.channel == Channel.FOLLOWUP))
        == 0
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
