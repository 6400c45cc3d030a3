"""Storing a response: one place, used by every channel, idempotent on the client's id."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from survey import integrity
from survey.cases import service as cases
from survey.extensions import db
from survey.models import Answer, Channel, Desk, Questionnaire, Response, Status, utcnow

# Phone numbers (0912 345 678, 0912.345.678, +84 912 345 678, (+84) 24 3825 1234, ...) and ID
# numbers (12-digit citizen ID, 9-digit old ID card, also in groups of three) in comments.
# Amounts such as 150.000.000 đồng and dates are left alone: they start neither with 0 nor 84.
PERSONAL_NUMBER = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\(?\+84\)?|84)[ .\-]?(?:\d[ .\-]?){8,9}\d"
    r"|0(?:\d[ .\-]?){8,9}\d"
    r"|\d{3}(?: \d{3}){2,3}"
    r"|\d{12}|\d{9}"
    r")(?!\d)"
)
MASK = "[***]"


def mask_personal_numbers(text: str | None) -> str | None:
    """`text` with phone and ID numbers replaced by a mask; never longer than `text`."""
    if not text:
        return text
    return PERSONAL_NUMBER.sub(MASK, text)


class ResponseConflict(Exception):
    """The id is already stored with different content (HTTP 409)."""


class InvalidAnswer(ValueError):
    """An answer that the questionnaire does not allow; `field` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Submission:
    id: uuid.UUID
    desk: Desk
    questionnaire: Questionnaire
    channel: Channel
    level: str
    answers: dict[str, str] = field(default_factory=dict)
    comment: str | None = None
    dossier_code: str | None = None
    client_time: datetime | None = None
    occurred_at: datetime | None = None
    client_hash: str | None = None
    kiosk_id: int | None = None
    ticket_id: int | None = None
    form_key: str | None = None
    status: Status = Status.VALID
    status_reason: str | None = None

    def validate(self) -> None:
        levels = self.questionnaire.level_codes()
        if self.level not in levels:
            raise InvalidAnswer(
                "level", f"unknown level {self.level!r}; allowed: {', '.join(levels)}"
            )
        criteria = self.questionnaire.criterion_codes()
        for criterion, level in self.answers.items():
            if criterion not in criteria:
                raise InvalidAnswer(
                    "answers", f"unknown criterion {criterion!r}; allowed: {', '.join(criteria)}"
                )
            if level not in levels:
                raise InvalidAnswer(
                    f"answers.{criterion}", f"unknown level {level!r}; allowed: {', '.join(levels)}"
                )

    def content_hash(self) -> str:
        """What makes two submissions "the same": everything the citizen chose, and where."""
        return content_digest(
            desk_id=self.desk.id,
            questionnaire_id=self.questionnaire.id,
            channel=self.channel,
            level=self.level,
            answers=self.answers,
            comment=self.comment,
            dossier_code=self.dossier_code,
            client_time=self.client_time,
        )


def content_digest(
    *,
    desk_id: int,
    questionnaire_id: int,
    channel: Channel,
    level: str,
    answers: dict[str, str],
    comment: str | None,
    dossier_code: str | None,
    client_time: datetime | None,
) -> str:
    """SHA-256 of a submission's content: the one definition, for every channel.

    The text hashed is `json.dumps(content, sort_keys=True, ensure_ascii=False)` of the
    content's dictionary, written out directly because the paper import hashes 100,000 rows
    a file (a test checks that the two agree).
    """
    quote = _json_string
    chosen = ", ".join(f"{quote(k)}: {quote(v)}" for k, v in sorted(answers.items()))
    text = (
        f'{{"answers": {{{chosen}}}, "channel": {quote(str(channel))}, '
        f'"client_time": {quote(client_time.isoformat() if client_time else "")}, '
        f'"comment": {quote(comment or "")}, "desk": {int(desk_id)}, '
        f'"dossier": {quote(dossier_code or "")}, "level": {quote(level)}, '
        f'"questionnaire": {int(questionnaire_id)}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


# A str as json.dumps(..., ensure_ascii=False) writes it, quotes included.
_json_string = json.encoder.encode_basestring


def record(submission: Submission) -> tuple[Response, bool]:
    """Store `submission` and commit. Return (response, created).

    A retry of the same id with the same content returns the stored row with created=False;
    the same id with other content raises `ResponseConflict`. Phone and ID numbers in the
    comment are masked first, for every channel, burst rules may flag the response
    (`survey.integrity`), and a comment may open a case for the agency (`survey.cases`).
    """
    submission = replace(submission, comment=mask_personal_numbers(submission.comment))
    submission.validate()
    digest = submission.content_hash()
    existing = db.session.get(Response, submission.id)
    if existing is not None:
        return _same_or_conflict(existing, digest)

    questionnaire = submission.questionnaire
    now = utcnow()
    response = Response(
        id=submission.id,
        desk_id=submission.desk.id,
        agency_id=submission.desk.agency_id,
        questionnaire_id=questionnaire.id,
        channel=submission.channel,
        level=submission.level,
        satisfied=questionnaire.is_satisfied(submission.level),
        comment=submission.comment or None,
        dossier_code=submission.dossier_code or None,
        occurred_at=submission.occurred_at or now,
        received_at=now,
        client_time=submission.client_time,
        status=submission.status,
        status_reason=submission.status_reason,
        content_hash=digest,
        client_hash=submission.client_hash,
        kiosk_id=submission.kiosk_id,
        ticket_id=submission.ticket_id,
        form_key=submission.form_key,
        answers=[
            Answer(criterion=c, level=lvl, satisfied=questionnaire.is_satisfied(lvl))
            for c, lvl in sorted(submission.answers.items())
        ],
    )
    integrity.screen(response)
    db.session.add(response)
    cases.open_case(response)  # a dissatisfied comment opens a case, in this transaction
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent request with the same id won the race; look at what it stored.
        db.session.rollback()
        existing = db.session.get(Response, submission.id, populate_existing=True)
        if existing is None:
            raise
        return _same_or_conflict(existing, digest)
    return response, True


def _same_or_conflict(existing: Response, digest: str) -> tuple[Response, bool]:
    if existing.content_hash != digest:
        raise ResponseConflict(str(existing.id))
    return existing, False


def count_responses() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response)) or 0
