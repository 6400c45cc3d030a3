"""Writing many rows fast: updates by id, and the paper import's bulk insert.

A chunk of checked rows is turned into driver parameters on the reading thread (`PaperChunks`,
`_Insert`) and written on a second one (`Writer`) while the next chunk is read; on SQLite the
chunk goes in as one JSON value, on PostgreSQL through COPY. The garbage collector is paused and
SQLite's page cache enlarged while an import runs. One cohesive thing, the write side of
an import, hence a little over 400 lines.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import itertools
import json
import secrets
import time as time_module
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa

from survey.extensions import db
from survey.models import Answer, Channel, Response, Status, utcnow

if TYPE_CHECKING:
    from survey.imports.paper import PaperRow

CHUNK = 10000  # rows a statement


def update_by_id(table: sa.Table, rows: list[dict], columns) -> None:
    """`UPDATE table SET <column> = :<key>, ... WHERE id = :b_id` for every dict of `rows`,
    executed many at a time in chunks of `CHUNK` (one statement, Core executemany). `columns`
    names the columns to set, each read from the key of the same name, or maps column names
    to keys (e.g. `{"expires_at": "b_expires"}`: a bound name may not be a column's)."""
    if not rows:
        return
    mapping = columns if isinstance(columns, dict) else {c: c for c in columns}
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values({column: sa.bindparam(key) for column, key in mapping.items()})
    )
    for start in range(0, len(rows), CHUNK):
        db.session.execute(statement, rows[start : start + CHUNK])


@contextlib.contextmanager
def gc_paused():
    """The cyclic garbage collector off while a file is imported.

    An import makes millions of small objects that hold no cycles (tuples, strings), and
    every collection would walk all the rows still waiting to be written: a third of the
    time of a 100,000-row file. Reference counting frees them as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def sqlite_cache(connection: sa.Connection, kib: int = 65536):
    """A larger SQLite page cache (64 MiB, instead of 2 MiB) on this connection while it
    inserts: the indexes of `response` then stay in memory. Other backends are left alone."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection  # a PRAGMA here is outside any transaction
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {int(before)}")


class Writer:
    """Writes chunks on a second thread while the caller reads and checks the next one.

    SQLite and psycopg release the GIL while the database works, so on two cores the import
    takes about as long as the slower of reading and writing instead of their sum. One chunk
    at most is in flight and `submit` and `wait` wait for it, so the session's connection is
    never used by two threads at once, chunks are written in order, and an exception raised
    while writing reaches the caller. The thread runs in a copy of the caller's context, so
    it sees the same app context and session.
    """

    def __init__(self, write: Callable, done: Callable):
        self._write = write
        self._done = done
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hailong-import")
        self._future: Future | None = None

    def submit(self, *args) -> None:
        self.wait()
        self._future = self._executor.submit(contextvars.copy_context().run, self._write, *args)

    def wait(self) -> None:
        """Wait for the chunk in flight, and hand its outcome to `done`."""
        if self._future is not None:
            future, self._future = self._future, None
            self._done(future.result())

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            if exc_info[0] is None:
                self.wait()
            elif self._future is not None:
                futures_wait([self._future])  # let it finish before the rollback
        finally:
            self._executor.shutdown()


def _time_ordered_ids() -> Iterator[uuid.UUID]:
    """Increasing version-7 UUIDs (RFC 9562): the time in milliseconds, then random bits, and a
    counter in the last 32 bits so that one import's ids keep increasing.

    Paper responses are found again by their form key, not by their id, so the id is free to
    follow insertion order: new rows then go to the right-hand end of the primary-key indexes
    of `response` and `answer`, instead of to random pages, which is most of the writing time
    on a large table.
    """
    milliseconds = time_module.time_ns() // 1_000_000
    prefix = (
        (milliseconds & (1 << 48) - 1) << 80
        | 0x7 << 76
        | secrets.randbits(12) << 64
        | 0b10 << 62
        | secrets.randbits(30) << 32
    )
    for counter in itertools.count():
        yield uuid.UUID(int=prefix | counter)


class _Insert:
    """An INSERT of `columns` into `table`, compiled once for the dialect, and its rows turned
    into driver parameters.

    Each value goes through its column type's bind processor, exactly as SQLAlchemy Core
    would, but a column at a time and each distinct value once (a file repeats the same dates,
    levels and booleans): that conversion is most of the time a Core executemany spends on
    100,000 rows.
    """

    def __init__(
        self,
        table: sa.Table,
        columns: tuple[str, ...],
        dialect: sa.Dialect,
        converted: tuple[str, ...] = (),
    ):
        """`converted` names columns whose values the caller converts itself (`convert`)."""
        compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(columns))
        self.sql = str(compiled)
        self.columns = columns
        self.order = list(compiled.positiontup) if compiled.positional else None
        self.processors = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in columns
        }
        self.converters = {name: self.processors.pop(name) or _same for name in converted}
        self.json_sql = self.copy_sql = None
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            # COPY, PostgreSQL's own bulk load, through psycopg's Copy object.
            self.copy_sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        elif dialect.name == "sqlite":
            # The whole chunk as one JSON array, unpacked by SQLite in C: one statement, and
            # the GIL is free for the reading thread all the while (see `Writer`).
            order = self.order or list(columns)
            self.json_sql = "INSERT INTO {} ({}) SELECT {} FROM json_each(?)".format(
                table.name,
                ", ".join(order),
                ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(order))),
            )

    def params(self, rows: list[tuple]) -> list:
        if not rows:
            return []
        values = dict(zip(self.columns, zip(*rows, strict=True), strict=True))
        for name, process in self.processors.items():
            if process is None:
                continue
            column = values[name]
            sample = column[:256]
            # Convert each distinct value once when values repeat (dates, levels, booleans),
            # except ids: their conversion is as cheap as hashing them.
            if not isinstance(sample[0], uuid.UUID) and len(set(sample)) < len(sample):
                converted = {value: process(value) for value in set(column)}
                values[name] = list(map(converted.__getitem__, column))
            else:
                values[name] = list(map(process, column))  # bind processors pass None through
        if self.order is not None or self.copy_sql is not None:
            order = self.order or self.columns
            return list(zip(*(values[name] for name in order), strict=True))
        return [
            dict(zip(self.columns, row, strict=True))
            for row in zip(*(values[name] for name in self.columns), strict=True)
        ]

    def prepare(self, rows: list[tuple]) -> _Prepared:
        """Parameters for `execute`, and for SQLite already as JSON: made on the reading
        thread, so that the writer only waits for the database."""
        params = self.params(rows)
        return _Prepared(params, _json_rows(params) if self.json_sql and params else None)

    def execute(self, connection: sa.Connection, rows: _Prepared, keep=None) -> None:
        """Insert the rows, or with `keep` (booleans, one a row) those it selects."""
        params, blob = rows
        if keep is not None:
            params, blob = list(itertools.compress(params, keep)), None
        if not params:
            return
        if self.json_sql is not None:
            connection.exec_driver_sql(self.json_sql, (blob or _json_rows(params),))
        elif self.copy_sql is not None:
            with connection.connection.dbapi_connection.cursor() as cursor:
                with cursor.copy(self.copy_sql) as copy:
                    for row in params:
                        copy.write_row(row)
        else:
            connection.exec_driver_sql(self.sql, params)


def _same(value):
    return value


class _Prepared(NamedTuple):
    params: list
    blob: str | None  # the same rows as one JSON array, for SQLite's json_each


def _json_rows(params: list) -> str:
    return json.dumps(params, ensure_ascii=False)


class _Chunk(NamedTuple):
    """Rows ready to insert: `ids` are the responses' ids as the database takes them,
    `responses` and `answers` their parameters, and `answer_counts[i]` answers belong to
    `rows[i]` (in the one-row-an-answer form); `uuids` are the same ids as UUIDs."""

    rows: list[PaperRow]
    ids: list
    uuids: list[uuid.UUID]
    responses: _Prepared
    answers: _Prepared
    answer_counts: list[int] | None


@dataclass
class Written:
    """What writing a chunk did; `conflicts` are the rows of forms already imported with
    other answers (then nothing of the chunk is written)."""

    created: int = 0
    unchanged: int = 0
    conflicts: list[int] = field(default_factory=list)


class PaperChunks:
    """Turns checked rows into `_Chunk`s (on the reading thread) and writes them (on the
    writer's), each side doing as little as it can."""

    RESPONSE_COLUMNS = (
        "id",
        "desk_id",
        "agency_id",
        "questionnaire_id",
        "channel",
        "level",
        "satisfied",
        "comment",
        "occurred_at",
        "received_at",
        "client_time",
        "status",
        "content_hash",
        "form_key",
        "answer_pattern",
    )
    ANSWER_COLUMNS = ("response_id", "criterion", "level", "satisfied")
    # On SQLite, a chunk's answers are one JSON object {response id: {criterion: [level,
    # satisfied]}}: the id and the criterion come out of json_each as keys, unparsed, and the
    # text is a third the size of one array an answer.
    SQLITE_ANSWERS = (
        "INSERT INTO answer (response_id, criterion, level, satisfied) "
        "SELECT r.key, a.key, json_extract(a.value, '$[0]'), json_extract(a.value, '$[1]') "
        "FROM json_each(?) AS r, json_each(r.value) AS a"
    )

    def __init__(self, dialect: sa.Dialect):
        # A response's id is converted once, for its row and its answers'.
        self.responses = _Insert(Response.__table__, self.RESPONSE_COLUMNS, dialect, ("id",))
        self.answers = _Insert(Answer.__table__, self.ANSWER_COLUMNS, dialect, ("response_id",))
        self.nested = self.answers.json_sql is not None
        self.convert_id = self.responses.converters["id"]
        self.ids = _time_ordered_ids()
        self.now = utcnow()
        self.commented: list[uuid.UUID] = []  # new forms with a comment, for their cases

    def prepare(self, rows: list[PaperRow]) -> _Chunk:
        uuids = list(itertools.islice(self.ids, len(rows)))
        ids = list(map(self.convert_id, uuids))
        paper, valid, now = Channel.PAPER.value, Status.VALID.value, self.now
        responses = [
            (
                response_id,
                row.desk.id,
                row.desk.agency_id,
                row.desk.questionnaire_id,
                paper,
                row.level,
                row.level in row.desk.scale.satisfied,
                row.comment,
                row.occurred_at,
                now,
                row.occurred_at,
                valid,
                row.digest,
                row.form_key,
                row.desk.scale.pattern(row.answers),
            )
            for row, response_id in zip(rows, ids, strict=True)
        ]
        if self.nested:
            nested = {}
            for row, response_id in zip(rows, ids, strict=True):
                if row.answers:
                    pairs = row.desk.scale.pairs
                    nested[response_id] = {c: pairs[level] for c, level in row.answers.items()}
            answers, counts = _Prepared(nested, _json_rows(nested)), None
        else:
            flat, counts = [], []
            for row, response_id in zip(rows, ids, strict=True):
                chosen, satisfied = row.answers, row.desk.scale.satisfied
                counts.append(len(chosen))
                flat.extend(
                    (response_id, criterion, level, level in satisfied)
                    for criterion, level in chosen.items()
                )
            answers = self.answers.prepare(flat)
        return _Chunk(rows, ids, uuids, self.responses.prepare(responses), answers, counts)

    def write(self, chunk: _Chunk) -> Written:
        """Insert a chunk: skip forms already stored with the same content, refuse changed
        ones."""
        outcome = Written()
        stored = self._stored([row.form_key for row in chunk.rows])
        keep = None
        if stored:  # a file imported before, in whole or in part
            keep = []
            for row in chunk.rows:
                digest = stored.get(row.form_key)
                keep.append(digest is None)
                if digest is None:
                    continue
                if digest == row.digest:
                    outcome.unchanged += 1
                else:
                    outcome.conflicts.append(row.number)
            if outcome.conflicts:
                return outcome
        connection = db.session.connection()
        self.responses.execute(connection, chunk.responses, keep)
        self._write_answers(connection, chunk, keep)
        outcome.created = len(chunk.rows) - len(stored)
        self.commented.extend(
            response_id
            for row, response_id, kept in zip(
                chunk.rows, chunk.uuids, keep or itertools.repeat(True), strict=False
            )
            if kept and row.comment
        )
        return outcome

    def _write_answers(self, connection: sa.Connection, chunk: _Chunk, keep) -> None:
        if not self.nested:
            if keep is not None:
                keep = list(
                    itertools.chain.from_iterable(
                        itertools.repeat(flag, count)
                        for flag, count in zip(keep, chunk.answer_counts, strict=True)
                    )
                )
            self.answers.execute(connection, chunk.answers, keep)
            return
        nested, blob = chunk.answers
        if keep is not None:
            kept = set(itertools.compress(chunk.ids, keep))
            nested = {key: value for key, value in nested.items() if key in kept}
            blob = _json_rows(nested)
        if nested:
            connection.exec_driver_sql(self.SQLITE_ANSWERS, (blob,))

    def _stored(self, keys: list[str]) -> dict[str, str]:
        """Form key -> content hash of the forms among `keys` already in the database."""
        if self.responses.json_sql is None:
            query = sa.select(Response.form_key, Response.content_hash).where(
                Response.form_key.in_(keys)
            )
            return dict(db.session.execute(query).all())
        # SQLite: the keys in and the answer out as one JSON value each, so that the database
        # works with the GIL released instead of stepping once a row.
        listed = sa.select(sa.column("value")).select_from(
            sa.func.json_each(_json_rows(keys)).table_valued("value")
        )
        query = sa.select(
            sa.func.json_group_object(Response.form_key, Response.content_hash)
        ).where(Response.form_key.in_(listed))
        return json.loads(db.session.scalar(query))
