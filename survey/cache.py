"""Per-process caches of what the submission path and the reports read and almost never
changes.

Each app (so each gunicorn worker) keeps its own entries, with a short time to live, for:

- published questionnaire versions by id (immutable once published) and the default one;
- desks by id and by code, with their agency's name and state and the questionnaire version
  they use (resolved up the agency tree): every desk, read in one query at a process's first
  look-up (50 ms for 2,000 desks on PostgreSQL, 1.3 s for 50,000: `bench/bench_desk_snapshot.py`),
  and a desk the snapshot lacks (added in SQL behind the app's back) read alone;
- the WTForms class of the citizen form per questionnaire version, locale and variant;
- API keys by prefix, and the agency subtree an API key may submit for;
- the agency tree of reports, sorted in Vietnamese order, as it stood on a day
  (`survey.reporting.table`).

Invalidation is explicit. Every transaction that changes an agency, a desk, a questionnaire, an
API key or a merger's tree moves (through the ORM, or an ORM-enabled
``UPDATE``/``DELETE``/``INSERT``) adds one to a counter in the database (table
``cache_version``) in the same transaction. Each process reads
the counter at most once every ``CACHE_CHECK_SECONDS`` (1 s) and drops all its entries when it
moved; the process that committed the change drops them at once. The time to live
(``CACHE_TTL_SECONDS``, 600 s: long, so that a desk rated every few minutes still finds
its entry; ``API_KEY_CACHE_SECONDS``, 10 s for API keys) bounds changes made
behind the app's back (SQL typed by hand).

So a key revoked with ``flask revoke-api-key`` or the admin page is refused by the process that
revoked it at once and by every other process within ``CACHE_CHECK_SECONDS``; a key revoked by
hand in SQL within ``API_KEY_CACHE_SECONDS`` (docs/performance.md, tests/survey/test_cache.py).

Cached values are plain frozen snapshots (or transient questionnaire objects never added to a
session), never ORM objects of a request's session: threads share them read-only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from survey.extensions import db
from survey.models import Agency, ApiKey, CacheVersion, Desk, Questionnaire, TreeMove
from survey.replica import on_primary

# Changes to these invalidate the caches.
WATCHED = (Agency, Desk, Questionnaire, ApiKey, TreeMove)
_WATCHED_TABLES = frozenset(model.__table__.name for model in WATCHED)
_VERSION = CacheVersion.__table__


class Cache:
    """Entries with a time to live, dropped when the database's version counter moves."""

    def __init__(self, check_seconds: float, ttl: float, clock: Callable[[], float] = None):
        self.check_seconds = check_seconds
        self.ttl = ttl
        self.clock = clock or time.monotonic
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._version: int | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._loading: dict[Any, threading.Lock] = {}

    def get(self, key, load: Callable[[], Any], ttl: float | None = None):
        """The cached value of `key`, or `load()` (cached unless it is None). Threads that
        miss the same key at once wait for one load (every desk's snapshot is one query of
        thousands of rows, read at once by every thread of a worker after each change)."""
        now = self.clock()
        self._check_version(now)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            entry = self._entries.get(key)  # another thread's load, while this one waited
            if entry is not None and entry[0] > now:
                return entry[1]
            try:
                with on_primary():  # an entry outlives the request: read it where the counter is
                    value = load()
                if value is not None:
                    self._entries[key] = (now + (self.ttl if ttl is None else ttl), value)
            finally:
                # Forget the lock (keys that load None, unknown desk codes, would pile up);
                # threads already waiting on it still hold it.
                if self._loading.get(key) is loading:
                    del self._loading[key]
        return value

    def clear(self) -> None:
        """Drop every entry, and read the counter again at the next look-up."""
        with self._lock:
            self._entries = {}
            self._version = None
            self._checked_at = float("-inf")

    def _check_version(self, now: float) -> None:
        if now - self._checked_at < self.check_seconds:
            return
        version = db.session.scalar(sa.select(_VERSION.c.version).where(_VERSION.c.id == 1))
        with self._lock:
            if version != self._version:
                self._entries = {}
                self._version = version
            self._checked_at = now


def init_app(app) -> None:
    app.extensions["hailong_cache"] = Cache(
        check_seconds=app.config["CACHE_CHECK_SECONDS"], ttl=app.config["CACHE_TTL_SECONDS"]
    )


def cache() -> Cache:
    return current_app.extensions["hailong_cache"]


# ---- invalidation ----------------------------------------------------------------------------


def bump_version(session: Session) -> None:
    """Add one to the counter in `session`'s transaction; drop this process's entries once it
    commits."""
    session.execute(sa.update(_VERSION).values(version=_VERSION.c.version + 1))
    session.info["hailong_cache_bumped"] = True


@event.listens_for(Session, "before_flush")
def _flush_changes_watched(session, flush_context, instances) -> None:
    if any(isinstance(obj, WATCHED) for obj in chain(session.new, session.dirty, session.deleted)):
        bump_version(session)


@event.listens_for(Session, "do_orm_execute")
def _bulk_changes_watched(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _WATCHED_TABLES:
        bump_version(state.session)


@event.listens_for(Session, "after_commit")
def _drop_after_commit(session) -> None:
    if session.info.pop("hailong_cache_bumped", False) and has_app_context():
        extension = current_app.extensions.get("hailong_cache")
        if extension is not None:
            extension.clear()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop("hailong_cache_bumped", None)


# ---- what is cached --------------------------------------------------------------------------


def questionnaire(questionnaire_id: int) -> Questionnaire:
    """The questionnaire version `questionnaire_id`: a cached copy once it is published (the
    copy is never attached to a session), else the row itself."""

    def load():
        table = Questionnaire.__table__
        row = db.session.execute(sa.select(table).where(table.c.id == questionnaire_id)).first()
        if row is None:
            raise LookupError(f"questionnaire {questionnaire_id} does not exist")
        return Questionnaire(**row._asdict()) if row.published_at is not None else None

    found = cache().get(("questionnaire", questionnaire_id), load)
    return found if found is not None else db.session.get(Questionnaire, questionnaire_id)


def default_questionnaire() -> Questionnaire:
    """The default published questionnaire (`Questionnaire.default`), cached."""
    default_id = cache().get(("default_questionnaire",), lambda: Questionnaire.default().id)
    return questionnaire(default_id)


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    code: str
    name: str
    name_en: str | None
    active: bool


@dataclass(frozen=True)
class DeskInfo:
    """What the submission path and the citizen form read of a desk: a snapshot that has the
    attributes of `Desk` they use (``desk.agency.name`` included)."""

    id: int
    code: str
    name: str
    agency_id: int
    active: bool
    agency: AgencyInfo
    questionnaire_id: int | None  # the version it uses, resolved up the tree; None: the default
    languages: tuple[str, ...] = ()  # codes of the admin-added languages its page offers

    def current_questionnaire(self) -> Questionnaire:
        if self.questionnaire_id is None:
            return default_questionnaire()
        return questionnaire(self.questionnaire_id)


# Loaders read with Core, never through the session's identity map: what they cache is what
# the database holds, whatever objects the request's session has loaded before.
_DESK, _AGENCY = Desk.__table__, Agency.__table__


def desk_by_id(desk_id: int) -> DeskInfo | None:
    found = _all_desks()[0].get(desk_id)
    if found is not None:
        return found
    return cache().get(("desk", desk_id), lambda: _desk_info(_DESK.c.id == desk_id))


def desk_by_code(code: str) -> DeskInfo | None:
    found = _all_desks()[1].get(code)
    if found is not None:
        return found
    return cache().get(("desk_code", code), lambda: _desk_info(_DESK.c.code == code))


def _all_desks() -> tuple[dict[int, DeskInfo], dict[str, DeskInfo]]:
    """Every desk by id and by code, read in one query at a process's first look-up (and after
    each change or time to live): a province's few thousand desks cost one query, where one
    query per desk and process used to follow each admin change under load. A desk added
    behind the app's back (SQL) is not in it until the time to live; the look-ups above then
    read that one desk."""
    return cache().get("all_desks", _load_all_desks)


def _desk_columns():
    return (
        _DESK.c.id,
        _DESK.c.code,
        _DESK.c.name,
        _DESK.c.agency_id,
        _DESK.c.active,
        _DESK.c.questionnaire_id,
        _DESK.c.languages,
        _AGENCY.c.code.label("agency_code"),
        _AGENCY.c.name.label("agency_name"),
        _AGENCY.c.name_en.label("agency_name_en"),
        _AGENCY.c.active.label("agency_active"),
        _AGENCY.c.questionnaire_id.label("agency_questionnaire_id"),
        _AGENCY.c.parent_id,
    )


def _load_all_desks() -> tuple[dict[int, DeskInfo], dict[str, DeskInfo]]:
    tree = {
        agency_id: (questionnaire_id, parent_id)
        for agency_id, questionnaire_id, parent_id in db.session.execute(
            sa.select(_AGENCY.c.id, _AGENCY.c.questionnaire_id, _AGENCY.c.parent_id)
        )
    }
    rows = db.session.execute(
        sa.select(*_desk_columns()).join(_AGENCY, _AGENCY.c.id == _DESK.c.agency_id)
    ).all()
    desks = [_snapshot(row, tree.get) for row in rows]
    return {d.id: d for d in desks}, {d.code: d for d in desks}


def _desk_info(where) -> DeskInfo | None:
    row = db.session.execute(
        sa.select(*_desk_columns()).join(_AGENCY, _AGENCY.c.id == _DESK.c.agency_id).where(where)
    ).first()
    if row is None:
        return None

    def parent(agency_id: int):
        return db.session.execute(
            sa.select(_AGENCY.c.questionnaire_id, _AGENCY.c.parent_id).where(
                _AGENCY.c.id == agency_id
            )
        ).first()

    return _snapshot(row, parent)


def _snapshot(row, parent) -> DeskInfo:
    """A `DeskInfo` of a row of `_desk_columns()`; `parent(agency_id)`: that agency's
    (questionnaire_id, parent_id), or None."""
    questionnaire_id = row.questionnaire_id or row.agency_questionnaire_id
    parent_id = row.parent_id
    while questionnaire_id is None and parent_id is not None:  # up the tree, as Desk does
        found = parent(parent_id)
        if found is None:
            break
        questionnaire_id, parent_id = found
    return DeskInfo(
        id=row.id,
        code=row.code,
        name=row.name,
        agency_id=row.agency_id,
        active=row.active,
        agency=AgencyInfo(
            id=row.agency_id,
            code=row.agency_code,
            name=row.agency_name,
            name_en=row.agency_name_en,
            active=row.agency_active,
        ),
        questionnaire_id=questionnaire_id,
        languages=tuple(row.languages or ()),
    )


def subtree_ids(agency_id: int) -> frozenset[int]:
    """`survey.scope.subtree_ids`, cached."""
    from survey.scope import subtree_ids as query

    return cache().get(("subtree", agency_id), lambda: frozenset(query(agency_id)))


def form_class(key, build: Callable[[], Any]):
    """A class built by `build` once per process (and version of the counter) for `key`."""
    return cache().get(("form_class", key), build)


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key as authentication sees it: a snapshot of the row."""

    id: int
    name: str
    prefix: str
    key_hash: str
    scopes: tuple[str, ...]
    agency_id: int | None
    revoked_at: datetime | None


def api_key(prefix: str) -> ApiKeyInfo | None:
    def load():
        table = ApiKey.__table__
        row = db.session.execute(sa.select(table).where(table.c.prefix == prefix)).first()
        if row is None:
            return None
        return ApiKeyInfo(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            key_hash=row.key_hash,
            scopes=tuple(row.scopes or ()),
            agency_id=row.agency_id,
            revoked_at=row.revoked_at,
        )

    return cache().get(("api_key", prefix), load, ttl=current_app.config["API_KEY_CACHE_SECONDS"])
