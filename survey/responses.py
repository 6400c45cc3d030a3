"""Storing a response: one place, used by every channel, idempotent on the client's id."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from survey import integrity, patterns
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


def _unknown_level(code: str, levels) -> str:
    return _(
        "Unknown level %(code)s; allowed: %(allowed)s.", code=repr(code), allowed=", ".join(levels)
    )


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
    language: str | None = None  # what the citizen read: vi, en or a language pack's code
    mode: str | None = None  # kiosks: "faces" (faces only, no text) or "standard"

    def validate(self) -> None:
        levels = self.questionnaire.level_codes()
        if self.level not in levels:
            raise InvalidAnswer("level", _unknown_level(self.level, levels))
        criteria = self.questionnaire.criterion_codes()
        for criterion, level in self.answers.items():
            if criterion not in criteria:
                raise InvalidAnswer(
                    "answers",
                    _(
                        "Unknown criterion %(code)s; allowed: %(allowed)s.",
                        code=repr(criterion),
                        allowed=", ".join(criteria),
                    ),
                )
            if level not in levels:
                raise InvalidAnswer(f"answers.{criterion}", _unknown_level(level, levels))

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

    The lean path (docs/performance.md): one ``INSERT ... ON CONFLICT (id) DO NOTHING
    RETURNING id`` through SQLAlchemy Core, the answers in one executemany, then the commit.
    The conflict is the idempotency check: only then is the stored row read, to tell a retry
    from a conflict. The response returned when created is the row as written, not attached to
    the session (nothing is read back after the commit).
    """
    submission = replace(submission, comment=mask_personal_numbers(submission.comment))
    submission.validate()
    response = _new_response(submission)
    with writer_turn():
        return _write(response, submission)


def _write(response: Response, submission: Submission) -> tuple[Response, bool]:
    for _attempt in range(2):
        try:
            if _insert(response, submission):
                break
        except IntegrityError:
            # Another unique key (a ticket, a paper form's key) is taken; if the id was stored
            # meanwhile, it is a retry or a conflict like any other.
            db.session.rollback()
            existing = db.session.get(Response, submission.id, populate_existing=True)
            if existing is None:
                raise
            return _same_or_conflict(existing, response.content_hash)
        # The id is taken (a retry, or a concurrent request with it won the race): compare.
        db.session.rollback()
        existing = db.session.get(Response, submission.id, populate_existing=True)
        if existing is not None:
            return _same_or_conflict(existing, response.content_hash)
        # Deleted between the INSERT and the read (a purge): try the INSERT once more.
    else:
        raise ResponseConflict(str(submission.id))
    # Screened after the insert, in its transaction: a retry costs one statement, and the
    # rules leave the new row out of their windows (they skip its id).
    if integrity.screen(response) is not None:
        db.session.execute(
            sa.update(RESPONSE)
            .where(RESPONSE.c.id == response.id)
            .values(status=response.status, status_reason=response.status_reason)
        )
    cases.open_case(response)  # a dissatisfied comment opens a case, in this transaction
    db.session.commit()
    return response, True


_SQLITE_WRITERS: dict[str, threading.Lock] = {}


@contextlib.contextmanager
def writer_turn():
    """On SQLite, the writers of one process take turns on a lock in Python, so that they
    queue instead of sleeping in SQLite's busy handler, whose
    growing sleeps made the long tail under load (docs/performance.md). Writers in other
    processes still meet SQLite's own lock; on PostgreSQL this does nothing."""
    bind = db.session.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    connection = db.session.connection().connection.dbapi_connection
    if connection.in_transaction:
        # This request already writes (a claimed ticket): it holds SQLite's lock; waiting
        # here for another thread that waits for that lock would deadlock.
        yield
        return
    lock = _SQLITE_WRITERS.setdefault(bind.url.render_as_string(), threading.Lock())
    with lock:
        try:
            yield
        except BaseException:
            db.session.rollback()  # never leave SQLite's lock held after our turn
            raise


RESPONSE = Response.__table__
ANSWER = Answer.__table__


def _new_response(submission: Submission) -> Response:
    """The row to write, as a Response that is never added to the session (the burst rules and
    the case rules read it; `_insert` writes its columns)."""
    questionnaire = submission.questionnaire
    now = utcnow()
    return Response(
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
        content_hash=submission.content_hash(),
        client_hash=submission.client_hash,
        kiosk_id=submission.kiosk_id,
        ticket_id=submission.ticket_id,
        form_key=submission.form_key,
        language=submission.language,
        mode=submission.mode,
        answer_pattern=patterns.pattern(
            questionnaire.level_codes(), questionnaire.criterion_codes(), submission.answers
        ),
    )


_COLUMNS = tuple(column.key for column in RESPONSE.columns)


def _insert(response: Response, submission: Submission) -> bool:
    """Write the response and its answers; False (and nothing written) when the id is taken."""
    row = {key: getattr(response, key) for key in _COLUMNS}
    if db.session.execute(_INSERT, row).first() is None:
        return False
    questionnaire = submission.questionnaire
    answers = [
        {
            "response_id": response.id,
            "criterion": criterion,
            "level": level,
            "satisfied": questionnaire.is_satisfied(level),
        }
        for criterion, level in sorted(submission.answers.items())
    ]
    if answers:
        db.session.execute(sa.insert(ANSWER), answers)
    return True


def _insert_statement() -> sa.TextClause:
    """`INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`, the same SQL on SQLite and
    PostgreSQL, as a textual statement with each column's type on its parameter (the values are
    converted as an ORM insert converts them). SQLAlchemy compiles it once per process: the
    dialects' own `insert().on_conflict_do_nothing()` is never cached (`inherit_cache = False`
    in SQLAlchemy 2.0), and compiling it for every submission was a quarter of `record()`'s
    time (docs/performance.md, "The INSERT compiled once")."""
    columns = list(RESPONSE.columns)
    return sa.text(
        f"INSERT INTO response ({', '.join(c.name for c in columns)}) "
        f"VALUES ({', '.join(':' + c.key for c in columns)}) "
        "ON CONFLICT (id) DO NOTHING RETURNING id"
    ).bindparams(*(sa.bindparam(c.key, type_=c.type) for c in columns))


_INSERT = _insert_statement()


def _same_or_conflict(existing: Response, digest: str) -> tuple[Response, bool]:
    if existing.content_hash != digest:
        raise ResponseConflict(str(existing.id))
    return existing, False


def count_responses() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response)) or 0
