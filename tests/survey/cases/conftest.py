"""Factories for the cases tests: a rating with a comment, through the one write path."""

from __future__ import annotations

import uuid

import pytest

from survey.cases.models import Case
from survey.cases.service import case_for_response
from survey.models import Channel, Status
from survey.responses import Submission, record


@pytest.fixture
def rate(app):
    """Store a rating of `desk` through `survey.responses.record`; return its case (or None)."""

    def do(desk, level="khong_hai_long", comment="Chờ quá lâu, không ai hướng dẫn", **kw):
        submission = Submission(
            id=uuid.uuid4(),
            desk=desk,
            questionnaire=desk.current_questionnaire(),
            channel=kw.pop("channel", Channel.QR),
            level=level,
            comment=comment,
            status=kw.pop("status", Status.VALID),
            **kw,
        )
        response, _ = record(submission)
        return case_for_response(response.id)

    return do


@pytest.fixture
def make_case(rate, desk):
    def make(target_desk=None, **kw) -> Case:
        case = rate(target_desk or desk, **kw)
        assert case is not None
        return case

    return make
