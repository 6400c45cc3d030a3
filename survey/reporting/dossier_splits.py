"""Splits by the dossier behind a ticket, for an agency's subtree and a period.

- Satisfaction for dossiers returned on time (returned_date <= due_date) and late, with
  Newcombe's hybrid score interval of the difference (on time minus late);
- the on-time rate itself: of the dossiers returned in the period with a due date, the share
  returned on time (a service metric, as the provincial service index scores it);
- satisfaction by procedure and by field (lĩnh vực), with Wilson intervals, the worst first
  by their empirical-Bayes shrunk estimate (`analysis.shrink`), so that a procedure with 0 of
  2 satisfied does not top the list on two answers;
- response rates of tickets: issued in the period, used, and the share used, per desk.

Only valid responses given through a ticket count, on the day they were given (the
report's rule). Ratings given before the result was returned (`survey.dossiers`) are
included by default and can be left out (`before_return="exclude"`); they are counted apart.
QR-code (desk), kiosk and paper ratings have no denominator: they are counted, not rated.

One cohesive thing, the dossier splits from their counts to their rows in files, hence
over 400 lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from analysis import compare_periods, proportion_ci, shrink
from survey.dossiers import procedure_names, province_of, rated_before_return
from survey.extensions import db
from survey.models import Agency, Channel, Desk, Procedure, Response, Status, Ticket
from survey.periods import Period
from survey.reporting import mergers
from survey.reporting.counts import agency_by_id, ticket_counts
from survey.reporting.formatting import float_or_none
from survey.reporting.table import DEFAULT_RESPONSE_WARNING, response_warning

BEFORE_RETURN = ("include", "exclude")
DEFAULT_WARNING = DEFAULT_RESPONSE_WARNING


@dataclass(frozen=True)
class Rate:
    satisfied: int
    responses: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return self.satisfied / self.responses if self.responses else None

    def to_json(self) -> dict:
        return {
            "satisfied": self.satisfied,
            "responses": self.responses,
            "rate": self.rate,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True)
class Difference:
    """On time minus late, with Newcombe's hybrid score interval."""

    difference: float | None
    low: float | None
    high: float | None

    def to_json(self) -> dict:
        return {"difference": self.difference, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Group:
    code: str
    name: str | None
    field: str | None
    rate: Rate
    shrunk: float | None

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "field": self.field,
            **self.rate.to_json(),
            "shrunk": self.shrunk,
        }


@dataclass(frozen=True)
class DeskUptake:
    code: str
    name: str
    issued: int
    used: int

    @property
    def rate(self) -> float | None:
        return self.used / self.issued if self.issued else None

    def to_json(self) -> dict:
        return {"desk": self.code, "issued": self.issued, "used": self.used, "rate": self.rate}


@dataclass(frozen=True)
class DossierSplits:
    period: Period
    confidence: float
    before_return: str
    on_time: Rate
    late: Rate
    not_returned: Rate  # ratings whose dossier has no return or due date yet
    difference: Difference
    before_return_responses: int  # ticket ratings given before the result was returned
    returned: int  # dossiers returned in the period with a due date
    returned_on_time: int
    on_time_rate: Rate  # the service metric, over dossiers (not ratings)
    by_procedure: list[Group]
    by_field: list[Group]
    issued: int
    used: int
    desks: list[DeskUptake] = field(default_factory=list)
    untracked: dict[str, int] = field(default_factory=dict)  # channel -> ratings, no denominator
    warning_below: float = DEFAULT_WARNING

    @property
    def response_rate(self) -> float | None:
        return self.used / self.issued if self.issued else None

    @property
    def is_empty(self) -> bool:
        """No ticket issued, ticket rating given or dossier returned in the period: nothing
        to show (the files leave such agencies out)."""
        return not (
            self.issued
            or self.returned
            or self.on_time.responses
            or self.late.responses
            or self.not_returned.responses
        )

    @property
    def low_response(self) -> bool:
        rate = self.response_rate
        return rate is not None and rate < self.warning_below

    def to_json(self) -> dict:
        return {
            "period": self.period.key,
            "confidence": self.confidence,
            "before_return": self.before_return,
            "on_time": self.on_time.to_json(),
            "late": self.late.to_json(),
            "not_returned": self.not_returned.to_json(),
            "on_time_minus_late": self.difference.to_json(),
            "before_return_responses": self.before_return_responses,
            "on_time_rate": {
                "returned": self.returned,
                "on_time": self.returned_on_time,
                "rate": self.on_time_rate.rate,
                "low": self.on_time_rate.low,
                "high": self.on_time_rate.high,
            },
            "by_procedure": [g.to_json() for g in self.by_procedure],
            "by_field": [g.to_json() for g in self.by_field],
            "response_rate": {
                "tickets_issued": self.issued,
                "tickets_used": self.used,
                "rate": self.response_rate,
                "warning_below": self.warning_below,
                "low": self.low_response,
                "desks": [d.to_json() for d in self.desks],
                "without_denominator": self.untracked,
            },
        }


def _rate(x: int, n: int, confidence: float) -> Rate:
    if n == 0:
        return Rate(0, 0, None, None)
    ci = proportion_ci(x, n, confidence)
    return Rate(x, n, float(ci.low), float(ci.high))


@dataclass
class _Tally:
    """An agency's ticket ratings in a period, summed: [satisfied, n] by dossier state
    ("on_time", "late", "open") and by procedure code, and the ratings given before return."""

    states: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    procedures: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    early: int = 0

    def add(self, other: _Tally) -> None:
        for key, (x, n) in other.states.items():
            self.states[key][0] += x
            self.states[key][1] += n
        for code, (x, n) in other.procedures.items():
            self.procedures[code][0] += x
            self.procedures[code][1] += n
        self.early += other.early


@dataclass
class _Read:
    """What the splits of any subtree of `agency_ids` need, read once for all of them."""

    tallies: dict[int, _Tally]  # agency id -> its ticket ratings
    desks_of: dict[int, list[int]]  # agency id -> its desks at the period's end
    returned: dict[int, tuple[int, int]]  # desk id -> (returned with a due date, on time)
    tickets: dict[int, tuple[int, int]]  # desk id -> (issued in the period, used)
    desk_names: list[tuple[int, str, str]]  # (id, code, name) of the desks with tickets, by code
    untracked: dict[int, dict]  # agency id -> {channel: valid ratings without a ticket}


def _read(agency_ids: set[int], period: Period, before_return: str) -> _Read:
    """Six statements whatever the number of subtrees asked for."""
    ids = sorted(agency_ids)
    low, high = period.utc_bounds()
    in_period = (Response.occurred_at >= low, Response.occurred_at < high)
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    for agency_id, satisfied, occurred_at, procedure, due, returned in db.session.execute(
        sa.select(
            Response.agency_id,
            Response.satisfied,
            Response.occurred_at,
            Ticket.procedure,
            Ticket.due_date,
            Ticket.returned_date,
        )
        .join(Ticket, Ticket.id == Response.ticket_id)
        .where(Response.agency_id.in_(ids), Response.status == Status.VALID, *in_period)
    ):
        tally = tallies[agency_id]
        if rated_before_return(occurred_at, returned):
            tally.early += 1
            if before_return == "exclude":
                continue
        if returned is None or due is None:
            key = "open"
        else:
            key = "on_time" if returned <= due else "late"
        tally.states[key][0] += int(satisfied)
        tally.states[key][1] += 1
        if procedure:
            tally.procedures[procedure][0] += int(satisfied)
            tally.procedures[procedure][1] += 1

    # Desks belong to their agency at the period's end (a merger since then moves none away).
    desk_agency = mergers.desk_agencies_at(high)
    desks_of: dict[int, list[int]] = defaultdict(list)
    for desk_id, agency_id in desk_agency.items():
        if agency_id in agency_ids:
            desks_of[agency_id].append(desk_id)
    desk_ids = sorted(d for desks in desks_of.values() for d in desks)
    # The on-time rate: dossiers returned in the period, with a due date.
    returned = {
        desk_id: (int(n), int(on_time))
        for desk_id, n, on_time in db.session.execute(
            sa.select(
                Ticket.desk_id,
                sa.func.count(),
                sa.func.coalesce(
                    sa.func.sum(sa.case((Ticket.returned_date <= Ticket.due_date, 1), else_=0)), 0
                ),
            )
            .where(
                Ticket.desk_id.in_(desk_ids),
                Ticket.due_date.is_not(None),
                Ticket.returned_date >= period.start,
                Ticket.returned_date <= period.end,
            )
            .group_by(Ticket.desk_id)
        )
    }
    # Response rates: tickets issued in the period, and how many of them were used (the same
    # count as the agency table's, by desk here).
    tickets = {desk_id: n for (_agency, desk_id), n in ticket_counts(period, ids).items()}
    desk_names = [
        tuple(row)
        for row in db.session.execute(
            sa.select(Desk.id, Desk.code, Desk.name)
            .where(Desk.id.in_(sorted(tickets)))
            .order_by(Desk.code)
        )
    ]
    untracked: dict[int, dict] = defaultdict(dict)
    for agency_id, channel, n in db.session.execute(
        sa.select(Response.agency_id, Response.channel, sa.func.count())
        .where(
            Response.agency_id.in_(ids),
            Response.status == Status.VALID,
            *in_period,
            Response.ticket_id.is_(None),
            Response.channel != Channel.FOLLOWUP,  # a sample, with its own denominator
        )
        .group_by(Response.agency_id, Response.channel)
    ):
        untracked[agency_id][channel] = int(n)
    return _Read(tallies, desks_of, returned, tickets, desk_names, untracked)


def dossier_splits(
    root: Agency | int,
    agency_ids: Iterable[int],
    period: Period,
    confidence: float = 0.95,
    before_return: str = "include",
    locale: str = "vi",
) -> DossierSplits:
    """The splits of `agency_ids` (the subtree of `root`, an agency or its id) in `period`."""
    if isinstance(root, int):
        root = agency_by_id(root)
    return many_dossier_splits([(root, agency_ids)], period, confidence, before_return, locale)[0]


def many_dossier_splits(
    subtrees: Iterable[tuple[Agency | int, Iterable[int]]],
    period: Period,
    confidence: float = 0.95,
    before_return: str = "include",
    locale: str = "vi",
) -> list[DossierSplits]:
    """The splits of each `(root, agency ids of its subtree)` in `period`, in order: the
    counts are read once for all of them (a province's file asks for every agency) and summed
    over each subtree."""
    if before_return not in BEFORE_RETURN:
        raise ValueError(f"before_return must be one of {', '.join(BEFORE_RETURN)}")
    subtrees = [(root, set(ids)) for root, ids in subtrees]
    wanted = sorted({root for root, _ids in subtrees if isinstance(root, int)})
    loaded = {a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_(wanted)))}
    read = _read(set().union(*(ids for _root, ids in subtrees)), period, before_return)
    names: dict[int, dict[str, Procedure]] = {}  # by province id
    found = []
    for root, ids in subtrees:
        province = province_of(loaded[root] if isinstance(root, int) else root).id
        if province not in names:
            names[province] = procedure_names(province)
        found.append(_splits(read, ids, names[province], period, confidence, before_return, locale))
    return found


def _splits(
    read: _Read,
    ids: set[int],
    names: dict[str, Procedure],
    period: Period,
    confidence: float,
    before_return: str,
    locale: str,
) -> DossierSplits:
    """The splits of the agencies `ids` from what `_read` read."""
    tally = _Tally()
    for agency_id in ids:
        if agency_id in read.tallies:
            tally.add(read.tallies[agency_id])
    counts, by_code = tally.states, tally.procedures
    on_time = _rate(*counts["on_time"], confidence)
    late = _rate(*counts["late"], confidence)
    if on_time.responses and late.responses:
        comparison = compare_periods(
            late.satisfied, late.responses, on_time.satisfied, on_time.responses, confidence
        )
        difference = Difference(
            float(comparison.difference), float(comparison.low), float(comparison.high)
        )
    else:
        difference = Difference(None, None, None)

    by_field = defaultdict(lambda: [0, 0])
    for code, (x, n) in by_code.items():
        known = names.get(code)
        if known is not None and known.field:
            by_field[known.field][0] += x
            by_field[known.field][1] += n

    def label(p: Procedure | None) -> str | None:
        if p is None:
            return None
        return (p.name_en or p.name) if locale == "en" else p.name

    procedures = _groups(
        by_code,
        confidence,
        lambda code: (label(names.get(code)), names[code].field if code in names else None),
    )
    fields = _groups(by_field, confidence, lambda name: (name, name))

    desk_ids = {d for agency_id in ids for d in read.desks_of.get(agency_id, ())}
    returned = sum(read.returned.get(d, (0, 0))[0] for d in desk_ids)
    returned_on_time = sum(read.returned.get(d, (0, 0))[1] for d in desk_ids)
    desks = [
        DeskUptake(code, name, *read.tickets[desk_id])
        for desk_id, code, name in read.desk_names
        if desk_id in desk_ids
    ]
    untracked: dict = defaultdict(int)
    for agency_id in ids:
        for channel, n in read.untracked.get(agency_id, {}).items():
            untracked[channel] += n
    return DossierSplits(
        period=period,
        confidence=confidence,
        before_return=before_return,
        on_time=on_time,
        late=late,
        not_returned=_rate(*counts["open"], confidence),
        difference=difference,
        before_return_responses=tally.early,
        returned=returned,
        returned_on_time=returned_on_time,
        on_time_rate=_rate(returned_on_time, returned, confidence),
        by_procedure=procedures,
        by_field=fields,
        issued=sum(d.issued for d in desks),
        used=sum(d.used for d in desks),
        desks=desks,
        untracked={str(channel): n for channel, n in sorted(untracked.items())},
        warning_below=response_warning(),
    )


def _groups(counts: dict[str, list[int]], confidence: float, describe) -> list[Group]:
    """Groups with their intervals, the worst first by shrunk estimate (raw rate when fewer
    than two groups have answers, since there is nothing to shrink towards)."""
    codes = sorted(counts)
    if not codes:
        return []
    x = np.array([counts[c][0] for c in codes])
    n = np.array([counts[c][1] for c in codes])
    shrunk = shrink(x, n, confidence).estimate if len(codes) >= 2 else x / n
    groups = []
    for i, code in enumerate(codes):
        name, field_name = describe(code)
        groups.append(
            Group(
                code,
                name,
                field_name,
                _rate(int(x[i]), int(n[i]), confidence),
                float_or_none(shrunk[i]),
            )
        )
    return sorted(groups, key=lambda g: (g.shrunk, g.code))


#: The columns of the splits' table (the agency page's CSV, the report's Excel sheet), by key;
#: the files carry `COLUMN_LABELS`, in the reader's language, as the report's table does.
COLUMNS = (
    "split",
    "code",
    "name",
    "field",
    "base",
    "counted",
    "rate",
    "low",
    "high",
    "shrunk",
)
COLUMN_LABELS = {
    "agency_code": _l("Agency code"),
    "agency": _l("Agency"),
    "split": _l("Split"),
    "code": _l("Code"),
    "name": _l("Name"),
    "field": _l("Field"),
    "base": _l("Out of (responses, dossiers or tickets)"),
    "counted": _l("Counted (satisfied, on time or used)"),
    "rate": _l("Rate"),
    "low": _l("Interval low"),
    "high": _l("Interval high"),
    "shrunk": _l("Shrunk estimate"),
}
PERCENT_COLUMNS = {"rate", "low", "high", "shrunk"}
#: What each row of the table is, in words (the files' "split" column).
SPLIT_LABELS = {
    "on_time": _l("Returned on time"),
    "late": _l("Returned late"),
    "not_returned": _l("Not returned yet, or no due date"),
    "on_time_minus_late": _l("On time minus late (Newcombe interval)"),
    "on_time_rate": _l("On-time rate (service metric)"),
    "response_rate": _l("Response rate of tickets"),
    "procedure": _l("Procedure"),
    "field": _l("Field"),
    "response_rate_desk": _l("Response rate of a desk's tickets"),
    "no_denominator": _l("Ratings without a denominator"),
}


def to_csv(splits: DossierSplits) -> bytes:
    """The splits as one CSV table (UTF-8 with a BOM, for Excel): one row per split, with
    headers and splits in words, in the reader's language (the JSON report is the machine
    format)."""
    from survey.spreadsheets import write_table

    return write_table("csv", header(), [cells(row) for row in rows(splits)])


def header(agency: bool = False) -> list[str]:
    keys = (("agency_code", "agency") if agency else ()) + COLUMNS
    return [str(COLUMN_LABELS[key]) for key in keys]


def cells(row: dict) -> list:
    """One row of `rows` as the cells of `COLUMNS`: the split in words, a channel as its
    label, rates rounded to 6 decimals."""
    from survey.reporting.labels import CHANNEL_LABELS

    out = []
    for key in COLUMNS:
        value = row.get(key)
        if key == "split":
            value = str(SPLIT_LABELS[value])
        elif key == "code" and row["split"] == "no_denominator":
            value = str(CHANNEL_LABELS.get(value, value))
        elif isinstance(value, float):
            value = round(value, 6)
        out.append("" if value is None else value)
    return out


def rows(splits: DossierSplits) -> list[dict]:
    """The splits as rows keyed by `COLUMNS` ("split" holds the split's code)."""

    def line(split, rate: Rate, code="", name=None, field_name=None, shrunk=None) -> dict:
        return {
            "split": split,
            "code": code,
            "name": name,
            "field": field_name,
            "base": rate.responses,
            "counted": rate.satisfied,
            "rate": rate.rate,
            "low": rate.low,
            "high": rate.high,
            "shrunk": shrunk,
        }

    d = splits.difference
    return [
        line("on_time", splits.on_time),
        line("late", splits.late),
        line("not_returned", splits.not_returned),
        {"split": "on_time_minus_late", "rate": d.difference, "low": d.low, "high": d.high},
        line("on_time_rate", splits.on_time_rate),
        {
            "split": "response_rate",
            "base": splits.issued,
            "counted": splits.used,
            "rate": splits.response_rate,
        },
        *(
            line("procedure", g.rate, g.code, g.name, g.field, g.shrunk)
            for g in splits.by_procedure
        ),
        *(line("field", g.rate, g.code, g.name, None, g.shrunk) for g in splits.by_field),
        *(
            {
                "split": "response_rate_desk",
                "code": d.code,
                "name": d.name,
                "base": d.issued,
                "counted": d.used,
                "rate": d.rate,
            }
            for d in splits.desks
        ),
        *(
            {"split": "no_denominator", "code": channel, "base": n}
            for channel, n in splits.untracked.items()
        ),
    ]
