"""Ballot-stuffing defences: flag ratings that arrive in a burst, when they are stored.

Flagged responses are stored, never dropped. They stay out of the headline rate until an analyst
marks them valid or excluded in the review queue (`survey.review`). The rules, whose thresholds
live in the config (`INTEGRITY_*`), are explained for agencies in docs/integrity.md:

- ``client_burst``: QR ratings (desk poster or ticket). When one client (the daily-rotated hash
  of its address) sends the Nth rating of one desk within M minutes, that rating and the earlier
  ones in the window are flagged.
- ``kiosk_burst``: the same for ratings from one kiosk.
- ``desk_surge``: QR and kiosk ratings. A desk's count over the last hour above
  ``max(SURGE_MIN, SURGE_FACTOR x its median busy hour over the last 28 days)`` flags each
  rating above that line.
- ``repeat_browser``: set by the citizen view when the signed cooldown cookie shows that the same
  browser rated the same desk a few minutes earlier.

Every query is bounded by the indexed ``(desk_id, occurred_at)`` pair.
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from survey.extensions import db
from survey.models import Channel, Response, Status

CLIENT_BURST = "client_burst"
KIOSK_BURST = "kiosk_burst"
DESK_SURGE = "desk_surge"
REPEAT_BROWSER = "repeat_browser"
RULES = (CLIENT_BURST, KIOSK_BURST, DESK_SURGE, REPEAT_BROWSER)

# Channels where a citizen rates in real time. Paper forms and portal submissions arrive in
# batches entered or synced by staff and integrators, so volume says nothing about them.
LIVE_CHANNELS = (Channel.QR, Channel.KIOSK)


def explain(reason: str | None) -> str:
    """Why a response was flagged, in the reader's language; other reasons are shown as stored."""
    config = current_app.config
    if reason == CLIENT_BURST:
        count, minutes = config["INTEGRITY_CLIENT_BURST"]
        return str(
            _l(
                "%(count)d or more QR ratings of this desk came from one connection within %(minutes)d minutes.",
                count=count,
                minutes=minutes,
            )
        )
    if reason == KIOSK_BURST:
        count, minutes = config["INTEGRITY_KIOSK_BURST"]
        return str(
            _l(
                "%(count)d or more ratings came from one kiosk within %(minutes)d minutes.",
                count=count,
                minutes=minutes,
            )
        )
    if reason == DESK_SURGE:
        return str(
            _l(
                "The desk received more ratings in one hour than %(minimum)d and than %(factor)d times its usual busy hour.",
                minimum=config["INTEGRITY_SURGE_MIN"],
                factor=config["INTEGRITY_SURGE_FACTOR"],
            )
        )
    if reason == REPEAT_BROWSER:
        return str(_l("The same browser had already sent a rating for this desk shortly before."))
    return reason or ""


def screen(response: Response) -> str | None:
    """Flag `response` when it matches a rule, and return the rule (None when it looks normal).

    Call it before the response is added to the session, in the transaction that stores it:
    a burst also flags the earlier ratings of its window. Responses that are already flagged or
    excluded, and earlier ones that an analyst has reviewed, are left alone.
    """
    if response.status != Status.VALID:
        return None
    rules, parameters = _first_checks(response)
    if not rules:
        return None  # not a live channel (API, paper, follow-up): no rule applies
    with db.session.no_autoflush:
        # The common case costs one statement: each rule's count, capped, as one scalar
        # subquery of the same SELECT (they share the desk's window on its index).
        # On the transaction's connection, past the ORM's execution layer (no ORM entities).
        found = db.session.connection().execute(_first_counts(rules), parameters).one()
        counts = dict(zip(rules, found, strict=True))
        rule = (
            _burst(response, CLIENT_BURST, counts.get(CLIENT_BURST), parameters)
            or _burst(response, KIOSK_BURST, counts.get(KIOSK_BURST), parameters)
            or _desk_surge(response, counts.get(DESK_SURGE), parameters)
        )
    if rule is not None:
        response.status = Status.FLAGGED
        response.status_reason = rule
    return rule


#: The setting (count, minutes) of each burst rule.
SETTING = {CLIENT_BURST: "INTEGRITY_CLIENT_BURST", KIOSK_BURST: "INTEGRITY_KIOSK_BURST"}
#: The name of each rule's cap parameter (`_first_checks` gives its first value).
CAP = {CLIENT_BURST: "client_cap", KIOSK_BURST: "kiosk_cap", DESK_SURGE: "surge_cap"}


@functools.cache
def _window(rule: str) -> tuple:
    """The conditions of `rule`'s window: the desk's earlier ratings (the new one left out)
    since the rule's start, with the values of `_first_checks` as parameters. Built once per
    process: SQLAlchemy then finds a statement's compiled form without walking it again
    (about a tenth of a citizen form POST's time when it was built for every rating)."""
    p = sa.bindparam
    desk = (
        Response.desk_id == p("desk"),
        Response.occurred_at <= p("at"),
        Response.id != p("new_id"),
    )
    return (
        desk
        + {
            CLIENT_BURST: (
                Response.occurred_at >= p("client_start"),
                Response.channel == Channel.QR,
                Response.client_hash == p("client"),
            ),
            KIOSK_BURST: (
                Response.occurred_at >= p("kiosk_start"),
                Response.kiosk_id == p("kiosk"),
            ),
            DESK_SURGE: (
                Response.occurred_at >= p("surge_start"),
                Response.channel.in_(LIVE_CHANNELS),
            ),
        }[rule]
    )


def _capped_count(rule: str):
    """How many ratings `rule`'s window holds, counting no further than its cap parameter: a
    flood stays cheap to check."""
    capped = (
        sa.select(sa.literal(1))
        .where(*_window(rule))
        .limit(sa.bindparam(CAP[rule], type_=sa.Integer))
        .subquery()
    )
    return sa.select(sa.func.count()).select_from(capped).scalar_subquery()


@functools.cache
def _first_counts(rules: tuple[str, ...]) -> sa.Select:
    """The first count of each of `rules`, capped at its base count, as one scalar subquery
    each of one statement (they share the desk's window on its index)."""
    return sa.select(*(_capped_count(rule) for rule in rules))


@functools.cache
def _recount(rule: str) -> sa.Select:
    return sa.select(_capped_count(rule))


def _count_up_to(rule: str, parameters: dict, cap: int) -> int:
    """`rule`'s window counted up to `cap`, in the transaction."""
    statement = _recount(rule)
    return db.session.connection().execute(statement, {**parameters, CAP[rule]: cap}).scalar()


def _first_checks(response: Response) -> tuple[tuple[str, ...], dict]:
    """The rules that apply to `response`, and the parameters of `_first_counts(rules)`."""
    config = current_app.config
    rules: list[str] = []
    at = response.occurred_at
    parameters = {"desk": response.desk_id, "at": at, "new_id": response.id}
    if response.channel == Channel.QR and response.client_hash:
        base, minutes = config["INTEGRITY_CLIENT_BURST"]
        rules.append(CLIENT_BURST)
        parameters.update(
            client=response.client_hash,
            client_start=at - timedelta(minutes=minutes),
            **{CAP[CLIENT_BURST]: base},
        )
    if response.channel == Channel.KIOSK and response.kiosk_id is not None:
        base, minutes = config["INTEGRITY_KIOSK_BURST"]
        rules.append(KIOSK_BURST)
        parameters.update(
            kiosk=response.kiosk_id,
            kiosk_start=at - timedelta(minutes=minutes),
            **{CAP[KIOSK_BURST]: base},
        )
    if response.channel in LIVE_CHANNELS:
        rules.append(DESK_SURGE)
        parameters.update(
            surge_start=at - timedelta(hours=1), **{CAP[DESK_SURGE]: config["INTEGRITY_SURGE_MIN"]}
        )
    return tuple(rules), parameters


def improbable_count(mean: float, chance: float) -> int:
    """The smallest n with P(N >= n) <= `chance` for N ~ Poisson(`mean`)."""
    n, term = 0, math.exp(-mean)
    below = term  # P(N <= n)
    while 1 - below > chance:
        n += 1
        term *= mean / n
        below += term
    return n + 1


def _burst(response: Response, rule: str, earlier: int | None, parameters: dict) -> str | None:
    """A client or kiosk burst. `earlier`: the count of the rule's window capped at its base
    count (from `_first_counts`), None when the rule does not apply."""
    if earlier is None:
        return None
    config = current_app.config
    base, minutes = config[SETTING[rule]]
    if earlier + 1 < base:
        return None  # the common case
    # At a busy desk many citizens can share one address (the agency's Wi-Fi): ask for a count
    # that would be improbable even if every rating of the desk came through that address.
    expected = busy_hour_median(response) * minutes / 60
    limit = max(base, improbable_count(expected, config["INTEGRITY_BURST_CHANCE"]))
    if limit > base:
        earlier = _count_up_to(rule, parameters, limit)
        if earlier + 1 < limit:
            return None
    if earlier + 1 == limit:
        # The burst starts now: flag the earlier ratings of the window too. Later ratings find
        # them flagged. An analyst's decision is kept in status_reason; unreviewed rows have none.
        db.session.execute(
            sa.update(Response)
            .where(
                *_window(rule), Response.status == Status.VALID, Response.status_reason.is_(None)
            )
            .values(status=Status.FLAGGED, status_reason=rule)
            .execution_options(synchronize_session=False),
            parameters,
        )
    return rule


def _desk_surge(response: Response, earlier: int | None, parameters: dict) -> str | None:
    if earlier is None:
        return None
    config = current_app.config
    minimum = config["INTEGRITY_SURGE_MIN"]
    if earlier + 1 <= minimum:
        return None  # the common case: no need for the baseline query
    threshold = max(minimum, config["INTEGRITY_SURGE_FACTOR"] * busy_hour_median(response))
    volume = _count_up_to(DESK_SURGE, parameters, int(threshold) + 1) + 1
    return DESK_SURGE if volume > threshold else None


def hour_bucket(column):
    """Truncate a timestamp to its hour, in the dialect of the bound database."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.strftime("%Y-%m-%d %H", column)
    return sa.func.date_trunc("hour", column)


def busy_hour_median(response: Response) -> float:
    """The median count of live ratings per busy hour (an hour with at least one) of the desk
    over the trailing baseline, the hour before `response` left out. Flagged ratings count (a
    short burst barely moves a median, and leaving them out would let flags feed on
    themselves); excluded ones do not."""
    end = response.occurred_at - timedelta(hours=1)
    start = response.occurred_at - timedelta(days=current_app.config["INTEGRITY_BASELINE_DAYS"])
    bucket = hour_bucket(Response.occurred_at)
    counts = db.session.scalars(
        sa.select(sa.func.count())
        .where(
            Response.desk_id == response.desk_id,
            Response.occurred_at >= start,
            Response.occurred_at < end,
            Response.channel.in_(LIVE_CHANNELS),
            Response.status != Status.EXCLUDED,
        )
        .group_by(bucket)
    ).all()
    return statistics.median(counts) if counts else 0


@dataclass(frozen=True)
class ReplaySummary:
    total: int
    flagged: int
    by_rule: dict[str, int]

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0


def replay(where=None, batch: int = 500) -> ReplaySummary:
    """Run the rules again over stored responses in the order they happened, as if each were
    arriving: for measuring the false-flag rate on a copy of the data (bench/bench_integrity.py).

    It rewrites the status of the responses it selects: never run it on production data.
    """
    select = sa.select(Response.id).order_by(Response.occurred_at, Response.id)
    reset = sa.update(Response).values(status=Status.VALID, status_reason=None)
    if where is not None:
        select, reset = select.where(where), reset.where(where)
    ids = list(db.session.scalars(select))
    db.session.execute(reset.execution_options(synchronize_session=False))
    db.session.commit()
    for start in range(0, len(ids), batch):
        for response_id in ids[start : start + batch]:
            response = db.session.get(Response, response_id, populate_existing=True)
            if response.status == Status.VALID:
                screen(response)
        db.session.commit()
    flagged = sa.select(Response.status_reason, sa.func.count()).where(
        Response.status == Status.FLAGGED
    )
    if where is not None:
        flagged = flagged.where(where)
    counts = dict(db.session.execute(flagged.group_by(Response.status_reason)).all())
    return ReplaySummary(len(ids), sum(counts.values()), counts)
