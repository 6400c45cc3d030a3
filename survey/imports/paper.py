"""Paper forms in: every row checked against its desk's questionnaire, then written in bulk.

Re-importing the same file changes nothing: a form is known by its desk and number, or, without
a number, by its content and how many identical rows came before it (`paper_form_key`).
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import BinaryIO, NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _

from survey import patterns
from survey.cases import service as cases
from survey.collation import fold
from survey.extensions import db
from survey.fields import COMMENT_MAX_LENGTH
from survey.imports.bulk import CHUNK, PaperChunks, Writer, Written, gc_paused, sqlite_cache
from survey.imports.results import ImportResult, Progress, run, tick
from survey.imports.table import EARLIEST, Table, header_key, parse_date
from survey.models import Channel, Desk, Questionnaire, utcnow
from survey.periods import LOCAL_OFFSET
from survey.responses import content_digest, mask_personal_numbers
from survey.spreadsheets import write_table

# Paper forms are dated, not timed: they are stored at local noon, safely inside the day.
PAPER_TIME = time(12, 0)
FORM_NUMBER = re.compile(r"^[\w./\-]{1,60}$")

PAPER_COLUMNS = {
    "desk code": "desk_code",
    "desk": "desk_code",
    "mã quầy": "desk_code",
    "date": "date",
    "ngày": "date",
    "ngày đánh giá": "date",
    "level": "level",
    "mức độ hài lòng": "level",
    "mức hài lòng": "level",
    "đánh giá": "level",
    "comment": "comment",
    "ý kiến": "comment",
    "góp ý": "comment",
    "form number": "form_number",
    "số phiếu": "form_number",
}
PAPER_REQUIRED = ("desk_code", "date", "level")
FIXED_PAPER = ("desk_code", "date", "level", "comment", "form_number")


class _Scale:
    """What a questionnaire accepts, looked up fast: level codes and their labels, criteria."""

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.codes = questionnaire.level_codes()
        self.lookup: dict[str, str] = {}
        for level in questionnaire.levels:
            self.lookup[level["code"]] = level["code"]
            self.lookup[level["code"].lower()] = level["code"]
            for label in level["label"].values():
                if label:
                    self.lookup[" ".join(label.lower().split())] = level["code"]
        # Without accents and in any case ("rat hai long", "RẤT HÀI LÒNG"), unless two levels
        # would then read alike.
        folded: dict[str, set[str]] = {}
        for level in questionnaire.levels:
            for text in (level["code"].replace("_", " "), *level["label"].values()):
                if text:
                    folded.setdefault(fold(text), set()).add(level["code"])
        self.folded = {key: codes.pop() for key, codes in folded.items() if len(codes) == 1}
        self.criteria = set(questionnaire.criterion_codes())
        self.criterion_order = questionnaire.criterion_codes()
        self.satisfied = frozenset(questionnaire.satisfied)
        self.pairs = {code: (code, code in self.satisfied) for code in self.codes}

    def pattern(self, answers: dict[str, str]) -> str | None:
        """The answers' `survey.patterns.pattern` (`response.answer_pattern`)."""
        return patterns.pattern(self.codes, self.criterion_order, answers)

    def level(self, raw: str) -> str | None:
        found = self.lookup.get(raw)  # most cells hold the code itself
        if found is None:
            found = self.lookup.get(" ".join(raw.lower().split()))
        return found if found is not None else self.folded.get(fold(raw))


def paper_form_key(desk_id: int, form_number: str | None, row_hash: str, occurrence: int) -> str:
    """The key that makes a re-import change nothing.

    With a form number: the desk and the number. Without: a hash of the row's content and
    how many identical rows came before it in the file, so that two citizens who gave the same
    answers on the same day stay two responses.
    """
    if form_number:
        return f"form:{desk_id}:{form_number}"
    return f"row:{row_hash[:40]}:{occurrence}"


def import_paper(
    stream: BinaryIO,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    today: date | None = None,
    scope: set[int] | None = None,
) -> ImportResult:
    """Import paper forms (desk_code, date, level, one column per criterion code, comment,
    form_number) as responses with channel `paper`. Re-importing the same file changes nothing.
    With a `scope` (an agency administrator's subtree), desks outside it are unknown codes.
    """
    result = ImportResult()
    today = today or (utcnow() + LOCAL_OFFSET).date()

    def work(table: Table) -> None:
        columns = table.columns(PAPER_COLUMNS, PAPER_REQUIRED, extra=_all_criteria())
        with gc_paused(), sqlite_cache(db.session.connection()):
            commented = _import_paper_rows(table, columns, result, today, progress, scope)
        if result.ok:
            # A complaint written on paper is worked like any other: its agency answers it.
            result.cases = cases.open_cases_for(commented)

    return run(lambda: Table(stream), work, result, dry_run)


def _all_criteria() -> dict[str, str]:
    """Header spelling -> criterion code, for every criterion of every questionnaire."""
    codes: dict[str, str] = {}
    for criteria in db.session.scalars(sa.select(Questionnaire.criteria)):
        codes.update((header_key(item["code"]), item["code"]) for item in criteria or [])
    return codes


class _PaperDesk(NamedTuple):
    """What a paper row needs of its desk, looked up once per desk code."""

    id: int
    agency_id: int
    questionnaire_id: int
    scale: _Scale


def _paper_desk(code: str, scales: dict[int, _Scale], scope=None) -> _PaperDesk | None:
    desk = db.session.scalar(sa.select(Desk).where(Desk.code == code))
    if desk is None or (scope is not None and desk.agency_id not in scope):
        return None
    questionnaire = desk.current_questionnaire()
    scale = scales.get(questionnaire.id)
    if scale is None:
        scale = scales[questionnaire.id] = _Scale(questionnaire)
    return _PaperDesk(desk.id, desk.agency_id, questionnaire.id, scale)


class PaperRow(NamedTuple):
    number: int
    form_key: str
    digest: str
    desk: _PaperDesk
    level: str
    answers: dict[str, str]
    comment: str | None
    occurred_at: datetime


@functools.lru_cache(maxsize=4096)
def _paper_time(day: date) -> datetime:
    """When a paper form dated `day` is stored: local noon, in UTC."""
    return datetime.combine(day, PAPER_TIME) - LOCAL_OFFSET


def _import_paper_rows(table, columns, result, today, progress, scope=None) -> list[uuid.UUID]:
    """Check every row; write the good ones in chunks while the file has no error so far.
    Return the ids of the new forms that have a comment.

    This is the import's hot path (goal: 20,000 rows/s, see bench/bench_import.py). Rows are
    plain tuples and dictionaries, each desk is looked up once, values are converted for the
    database a column at a time (`_Insert`), and each chunk is written on a second thread
    while the next one is read and checked (`Writer`).
    """
    dialect = db.session.get_bind().dialect
    chunks = PaperChunks(dialect)

    def written(outcome: Written) -> None:
        result.created += outcome.created
        result.unchanged += outcome.unchanged
        for number in outcome.conflicts:
            result.add_error(
                number,
                "form_number",
                _(
                    "This form was already imported with other answers. Correct it in the dashboard, or give it a new form number."
                ),
            )

    pending: list[PaperRow] = []
    size = CHUNK // 8  # small chunks first, so that the writer starts early, then CHUNK
    with Writer(chunks.write, written) as writer:
        for row in _checked_paper_rows(table, columns, result, today, writer.wait, scope):
            pending.append(row)
            if len(pending) >= size:
                chunk = chunks.prepare(pending)
                writer.wait()
                if result.ok:
                    writer.submit(chunk)
                pending = []
                size = min(2 * size, CHUNK)
                tick(table, progress)
        writer.wait()
        if pending and result.ok:
            writer.submit(chunks.prepare(pending))
    tick(table, progress)
    return chunks.commented


def _checked_paper_rows(
    table, columns, result, today, before_query, scope=None
) -> Iterator[PaperRow]:
    """The rows to write, while the file has no error; every row is checked to the end.

    `before_query` is called before the session is used (to look a desk up).
    """
    criteria_columns = [(name, index) for name, index in columns.items() if name not in FIXED_PAPER]
    desk_column, date_column, level_column = (columns[name] for name in PAPER_REQUIRED)
    comment_column = columns.get("comment")
    number_column = columns.get("form_number")
    desks: dict[str, _PaperDesk | None] = {}
    scales: dict[int, _Scale] = {}
    seen: dict[str, tuple[int, str]] = {}  # form key -> (row, content hash), within the file
    occurrences: dict[str, int] = {}
    error = result.add_error

    for number, cells in table.rows():
        result.rows += 1
        before = len(result.errors)
        code = cells[desk_column]
        desk = None
        if not code:
            error(number, "desk_code", _("The desk code is empty."))
        else:
            if code not in desks:
                before_query()
                desks[code] = _paper_desk(code, scales, scope)
            desk = desks[code]
            if desk is None:
                error(number, "desk_code", _("No desk has the code %(code)s.", code=code))
        raw_date = cells[date_column]
        day = parse_date(raw_date)
        if day is None:
            error(
                number,
                "date",
                _(
                    "%(value)s is not a date. Write YYYY-MM-DD or DD/MM/YYYY.",
                    value=raw_date or "∅",
                ),
            )
        elif not EARLIEST <= day <= today:
            error(
                number,
                "date",
                _("The date %(value)s is in the future or before 2000.", value=raw_date),
            )
        comment = cells[comment_column] if comment_column is not None else ""
        if len(comment) > COMMENT_MAX_LENGTH:
            error(
                number,
                "comment",
                _("The comment is longer than %(max)d characters.", max=COMMENT_MAX_LENGTH),
            )
        form_number = cells[number_column] if number_column is not None else ""
        if form_number and not FORM_NUMBER.match(form_number):
            error(
                number,
                "form_number",
                _(
                    "The form number may contain only letters, digits, dots, dashes and slashes (at most 60)."
                ),
            )
        level = None
        answers: dict[str, str] = {}
        if desk is not None:
            scale = desk.scale
            raw_level = cells[level_column]
            level = scale.level(raw_level) if raw_level else None
            if level is None:
                error(number, "level", _level_message(raw_level, scale))
            for name, index in criteria_columns:
                raw = cells[index]
                if not raw:
                    continue
                if name not in scale.criteria:
                    error(
                        number,
                        name,
                        _(
                            "The questionnaire of desk %(desk)s has no criterion %(criterion)s; leave this cell empty.",
                            desk=code,
                            criterion=name,
                        ),
                    )
                    continue
                answer = scale.level(raw)
                if answer is None:
                    error(number, name, _level_message(raw, scale))
                else:
                    answers[name] = answer
        if result.full:
            break
        if len(result.errors) > before:
            continue

        if form_number:
            form_key = paper_form_key(desk.id, form_number, "", 0)
        else:
            row_hash = _paper_row_hash(desk.id, day, level, comment, answers)
            occurrence = occurrences[row_hash] = occurrences.get(row_hash, 0) + 1
            form_key = paper_form_key(desk.id, None, row_hash, occurrence)
        occurred_at = _paper_time(day)
        # Like every channel, phone and ID numbers in comments are masked before storing.
        comment = mask_personal_numbers(comment) or None
        digest = content_digest(
            desk_id=desk.id,
            questionnaire_id=desk.questionnaire_id,
            channel=Channel.PAPER,
            level=level,
            answers=answers,
            comment=comment,
            dossier_code=None,
            client_time=occurred_at,
        )
        earlier = seen.get(form_key)
        if earlier is not None:
            if earlier[1] != digest:
                error(
                    number,
                    "form_number",
                    _(
                        "Form %(number)s of desk %(desk)s is also on row %(other)d, with other answers.",
                        number=form_number,
                        desk=code,
                        other=earlier[0],
                    ),
                )
            else:
                result.unchanged += 1
            continue
        seen[form_key] = (number, digest)
        if result.ok:  # after an error, keep checking the rest of the file but write nothing
            yield PaperRow(number, form_key, digest, desk, level, answers, comment, occurred_at)


def _paper_row_hash(desk_id: int, day: date, level: str, comment: str, answers: dict) -> str:
    """A form without a number is known by its content (as written, before masking)."""
    content = "\x1f".join(
        [str(desk_id), day.isoformat(), level, comment]
        + [f"{k}={v}" for k, v in sorted(answers.items())]
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _level_message(raw: str, scale: _Scale) -> str:
    return _(
        "Unknown level %(value)s. Use one of: %(allowed)s.",
        value=raw or "∅",
        allowed=", ".join(scale.codes),
    )


# The paper template's headings in Vietnamese (each is one of PAPER_COLUMNS' spellings); the
# English codes stay accepted and are the English template's.
PAPER_HEADINGS_VI = {
    "desk_code": "mã quầy",
    "date": "ngày đánh giá",
    "level": "mức độ hài lòng",
    "comment": "ý kiến",
    "form_number": "số phiếu",
}


def paper_template(fmt: str, questionnaire: Questionnaire, vietnamese: bool = True) -> bytes:
    """An empty paper-form file with the columns for `questionnaire`'s criteria, headed in
    Vietnamese (or with the English codes); criteria are headed by their codes."""
    names = PAPER_HEADINGS_VI if vietnamese else {}
    fixed = [names.get(code, code) for code in ("desk_code", "date", "level")]
    tail = [names.get(code, code) for code in ("comment", "form_number")]
    header = [*fixed, *questionnaire.criterion_codes(), *tail]
    return write_table(fmt, header, [], sheet=_("Paper forms"))
