"""Drawing the follow-up sample, recording the calls, and comparing it with the self-selected
ratings.

The frame: dossiers (tickets) returned in the period, at the desks of the chosen agency's
subtree (or everywhere). Strata: the desk's agency. Allocation: proportional to the number
of returned dossiers in each stratum, rounded by largest remainder (`analysis.followup.
allocate`). Within a stratum, a simple random sample without replacement, drawn by NumPy's
PCG64 generator from the stored seed over the tickets ordered by id: the same seed on the
same frame gives the same sample. hailong stores dossier codes, never phone numbers: the
call list goes to the one-stop staff or the integrator, who hold the contact details.

One cohesive thing, the follow-up sample from its frame to its comparison, hence over 400
lines.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from analysis import proportion_ci
from analysis.followup import SelectionCheck, allocate, selection_check
from survey.audit import audit
from survey.extensions import db
from survey.followup.models import FollowupDraw, FollowupItem, Outcome
from survey.models import Agency, Channel, Desk, Response, Status, Ticket, utcnow
from survey.periods import Period, parse_period
from survey.responses import Submission, record
from survey.scope import subtree_ids
from survey.spreadsheets import write_table

MAX_SIZE = 100_000


class FollowupError(ValueError):
    """A draw or an outcome that cannot be made; the message is translated."""


def draw(
    period_key: str,
    size: int,
    *,
    agency_code: str | None = None,
    seed: int | None = None,
    actor: str = "cli",
) -> FollowupDraw:
    """Draw, store, audit and commit a stratified random sample of returned dossiers."""
    period = parse_period(period_key)
    if not 1 <= size <= MAX_SIZE:
        raise FollowupError(_("The sample size must be between 1 and %(n)d.", n=MAX_SIZE))
    agency = None
    if agency_code:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise FollowupError(_("There is no agency with the code %(code)s.", code=agency_code))
    if seed is None:
        seed = secrets.randbits(63)
    frame = _frame(period, subtree_ids(agency.id) if agency else None)
    if not frame:
        raise FollowupError(
            _("No dossier was returned in %(period)s: there is nothing to draw.", period=period.key)
        )
    strata = sorted(frame)
    population = [len(frame[a]) for a in strata]
    parts = allocate(population, size)
    rng = np.random.default_rng(seed)
    result = FollowupDraw(
        period=period.key,
        agency_id=agency.id if agency else None,
        size=size,
        seed=seed,
        allocation={
            str(a): {"population": n_pop, "sample": int(n)}
            for a, n_pop, n in zip(strata, population, parts, strict=True)
        },
        created_at=utcnow(),
        created_by=actor,
    )
    db.session.add(result)
    for stratum, n in zip(strata, parts, strict=True):
        if n == 0:
            continue
        chosen = rng.choice(len(frame[stratum]), size=int(n), replace=False)
        for index in sorted(chosen):
            result.items.append(
                FollowupItem(ticket_id=frame[stratum][index], agency_id=stratum, outcome="pending")
            )
    db.session.flush()
    audit(
        "followup.draw",
        target=str(result.id),
        period=result.period,
        size=len(result.items),
        seed=result.seed,
    )
    db.session.commit()
    return result


def _frame(period: Period, agency_ids: set[int] | None) -> dict[int, list[int]]:
    """Ticket ids of the dossiers returned in the period, by the desk's agency, in id order."""
    query = (
        sa.select(Desk.agency_id, Ticket.id)
        .join(Desk, Desk.id == Ticket.desk_id)
        .where(Ticket.returned_date >= period.start, Ticket.returned_date <= period.end)
        .order_by(Ticket.id)
    )
    if agency_ids is not None:
        query = query.where(Desk.agency_id.in_(sorted(agency_ids)))
    frame: dict[int, list[int]] = defaultdict(list)
    for agency_id, ticket_id in db.session.execute(query):
        frame[agency_id].append(ticket_id)
    return frame


CALL_LIST_HEADER = [
    "item",
    "agency_code",
    "agency",
    "desk_code",
    "dossier_code",
    "procedure",
    "returned_date",
]


def call_list(followup: FollowupDraw, fmt: str = "csv") -> bytes:
    """The sampled dossiers, for the staff who hold the citizens' contact details."""
    rows = db.session.execute(
        sa.select(
            FollowupItem.id,
            Agency.code,
            Agency.name,
            Desk.code,
            Ticket.dossier_code,
            Ticket.procedure,
            Ticket.returned_date,
        )
        .join(Ticket, Ticket.id == FollowupItem.ticket_id)
        .join(Desk, Desk.id == Ticket.desk_id)
        .join(Agency, Agency.id == FollowupItem.agency_id)
        .where(FollowupItem.draw_id == followup.id)
        .order_by(Agency.code, FollowupItem.id)
    ).all()
    return write_table(
        fmt,
        CALL_LIST_HEADER,
        [
            [item, code, name, desk, dossier, procedure or "", returned.isoformat()]
            for item, code, name, desk, dossier, procedure, returned in rows
        ],
        sheet="followup",
    )


def record_outcome(
    item: FollowupItem,
    outcome: str,
    *,
    level: str | None = None,
    answers: dict[str, str] | None = None,
    actor: str,
) -> FollowupItem:
    """Record a call's outcome and commit. An answered call stores the citizen's answers as
    a response with channel `followup` at the dossier's desk; an outcome can be corrected
    until the call was answered."""
    if outcome not in {o.value for o in Outcome} - {Outcome.PENDING.value}:
        raise FollowupError(_("Choose the outcome of the call."))
    if item.outcome == Outcome.ANSWERED:
        raise FollowupError(_("This call was already recorded as answered."))
    if outcome == Outcome.ANSWERED:
        if not level:
            raise FollowupError(_("Choose the citizen's overall rating."))
        desk = item.ticket.desk
        response, _created = record(
            Submission(
                id=uuid.uuid4(),
                desk=desk,
                questionnaire=desk.current_questionnaire(),
                channel=Channel.FOLLOWUP,
                level=level,
                answers=answers or {},
                dossier_code=item.ticket.dossier_code,
            )
        )
        item.response_id = response.id
    item.outcome = outcome
    item.recorded_at = utcnow()
    item.recorded_by = actor[:254]
    db.session.commit()
    return item


@dataclass(frozen=True)
class AgencyCheck:
    agency_id: int
    code: str
    name: str
    sampled: int
    answered: int
    refused: int
    unreachable: int
    pending: int
    followup_satisfied: int
    self_satisfied: int
    self_responses: int
    check: SelectionCheck | None
    confidence: float = 0.95

    @property
    def called(self) -> int:
        return self.answered + self.refused + self.unreachable

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.called if self.called else None

    @property
    def followup_rate(self) -> float | None:
        return self.followup_satisfied / self.answered if self.answered else None

    @property
    def self_rate(self) -> float | None:
        return self.self_satisfied / self.self_responses if self.self_responses else None

    def followup_interval(
        self, confidence: float | None = None
    ) -> tuple[float | None, float | None]:
        """Wilson's interval of the follow-up estimate (a simple random sample within the
        agency's stratum), at the comparison's confidence unless another is given."""
        if not self.answered:
            return None, None
        ci = proportion_ci(self.followup_satisfied, self.answered, confidence or self.confidence)
        return float(ci.low), float(ci.high)

    @property
    def differs(self) -> bool | None:
        """Whether the two estimates differ beyond chance; None when there is no check."""
        return None if self.check is None else bool(self.check.differs)

    def to_json(self) -> dict:
        low, high = self.followup_interval()
        check = self.check
        return {
            "agency": self.code,
            "sampled": self.sampled,
            "answered": self.answered,
            "refused": self.refused,
            "unreachable": self.unreachable,
            "pending": self.pending,
            "followup_response_rate": self.response_rate,
            "followup": {
                "satisfied": self.followup_satisfied,
                "responses": self.answered,
                "rate": self.followup_rate,
                "low": low,
                "high": high,
            },
            "self_selected": {
                "satisfied": self.self_satisfied,
                "responses": self.self_responses,
                "rate": self.self_rate,
            },
            "self_minus_followup": None
            if check is None
            else {"difference": check.difference, "low": check.low, "high": check.high},
            "differs_beyond_chance": None if check is None else bool(check.differs),
        }


def comparison(followup: FollowupDraw, confidence: float = 0.95) -> list[AgencyCheck]:
    """Per stratum (agency): the follow-up estimate and its response rate beside the
    self-selected ratings of the same agency and period (valid, every channel but
    `followup`), and whether they differ beyond chance (`analysis.followup.selection_check`)."""
    period = parse_period(followup.period)
    low, high = period.utc_bounds()
    outcomes = defaultdict(lambda: defaultdict(int))
    satisfied = defaultdict(int)
    for agency_id, outcome, is_satisfied in db.session.execute(
        sa.select(FollowupItem.agency_id, FollowupItem.outcome, Response.satisfied)
        .outerjoin(Response, Response.id == FollowupItem.response_id)
        .where(FollowupItem.draw_id == followup.id)
    ):
        outcomes[agency_id][outcome] += 1
        if outcome == Outcome.ANSWERED and is_satisfied:
            satisfied[agency_id] += 1
    ids = sorted(int(a) for a in followup.allocation)
    own = dict(
        (agency_id, (int(x or 0), int(n)))
        for agency_id, x, n in db.session.execute(
            sa.select(
                Response.agency_id,
                sa.func.sum(sa.case((Response.satisfied, 1), else_=0)),
                sa.func.count(),
            )
            .where(
                Response.agency_id.in_(ids),
                Response.status == Status.VALID,
                Response.channel != Channel.FOLLOWUP,
                Response.occurred_at >= low,
                Response.occurred_at < high,
            )
            .group_by(Response.agency_id)
        )
    )
    agencies = {a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_(ids)))}
    checks = []
    for agency_id in ids:
        counts = outcomes[agency_id]
        answered = counts[Outcome.ANSWERED.value]
        x_self, n_self = own.get(agency_id, (0, 0))
        check = (
            selection_check(x_self, n_self, satisfied[agency_id], answered, confidence)
            if answered and n_self
            else None
        )
        checks.append(
            AgencyCheck(
                agency_id=agency_id,
                code=agencies[agency_id].code,
                name=agencies[agency_id].name,
                sampled=sum(counts.values()),
                answered=answered,
                refused=counts[Outcome.REFUSED.value],
                unreachable=counts[Outcome.UNREACHABLE.value],
                pending=counts[Outcome.PENDING.value],
                followup_satisfied=satisfied[agency_id],
                self_satisfied=x_self,
                self_responses=n_self,
                check=check,
                confidence=confidence,
            )
        )
    return checks


def latest_draw(period: Period, agency_ids: set[int]) -> FollowupDraw | None:
    """The most recent draw of `period` with a stratum among `agency_ids`."""
    for followup in db.session.scalars(
        sa.select(FollowupDraw)
        .where(FollowupDraw.period == period.key)
        .order_by(FollowupDraw.id.desc())
    ):
        if {int(a) for a in followup.allocation} & agency_ids:
            return followup
    return None


def report_checks(
    period: Period, agency_ids: set[int], confidence: float = 0.95
) -> tuple[FollowupDraw | None, list[AgencyCheck]]:
    """For the report of a subtree (`agency_ids`): the latest draw of the period and its
    comparison for the strata inside the subtree."""
    followup = latest_draw(period, agency_ids)
    if followup is None:
        return None, []
    return followup, [c for c in comparison(followup, confidence) if c.agency_id in agency_ids]


TEST_NOTE = (
    "Newcombe hybrid score interval of self-selected minus follow-up; "
    "differs beyond chance when it excludes 0"
)


@dataclass(frozen=True)
class FollowupCheck:
    """The follow-up check as a report shows it: the draw it rests on and, per sampled agency
    of the report, the comparison. Computed once (`followup_check`) and rendered by every
    format (agency page, CSV, Excel, PDF, Word, JSON), none of which queries again."""

    draw: int
    period: str
    seed: int
    confidence: float
    agencies: list[AgencyCheck]

    def to_json(self) -> dict:
        return {
            "draw": self.draw,
            "period": self.period,
            "seed": self.seed,
            "test": TEST_NOTE,
            "agencies": [c.to_json() for c in self.agencies],
        }


def followup_check(
    period: Period, agency_ids: set[int], confidence: float = 0.95
) -> FollowupCheck | None:
    """The follow-up check of a report over `agency_ids`; None without a draw of the period."""
    followup, checks = report_checks(period, agency_ids, confidence)
    if followup is None:
        return None
    return FollowupCheck(followup.id, followup.period, followup.seed, confidence, checks)


CHECKS_HEADER = [
    "agency_code",
    "agency",
    "sampled",
    "answered",
    "refused",
    "unreachable",
    "pending",
    "followup_response_rate",
    "followup_satisfied",
    "followup_rate",
    "followup_low",
    "followup_high",
    "self_satisfied",
    "self_responses",
    "self_rate",
    "difference",
    "difference_low",
    "difference_high",
    "differs_beyond_chance",
]

#: The headers of `CHECKS_HEADER` in the reader's language (the Excel sheet's).
CHECKS_LABELS = {
    "agency_code": _l("Code"),
    "agency": _l("Agency"),
    "sampled": _l("Dossiers sampled"),
    "answered": _l("Answered"),
    "refused": _l("Refused"),
    "unreachable": _l("Unreachable"),
    "pending": _l("Not called yet"),
    "followup_response_rate": _l("Follow-up response rate"),
    "followup_satisfied": _l("Follow-up: satisfied"),
    "followup_rate": _l("Follow-up estimate"),
    "followup_low": _l("Follow-up: interval low"),
    "followup_high": _l("Follow-up: interval high"),
    "self_satisfied": _l("Self-selected: satisfied"),
    "self_responses": _l("Self-selected: valid responses"),
    "self_rate": _l("Self-selected estimate"),
    "difference": _l("Difference (self-selected minus follow-up)"),
    "difference_low": _l("Difference: interval low"),
    "difference_high": _l("Difference: interval high"),
    "differs_beyond_chance": _l("Differ beyond chance"),
}
CHECKS_PERCENT = {
    "followup_response_rate",
    "followup_rate",
    "followup_low",
    "followup_high",
    "self_rate",
    "difference",
    "difference_low",
    "difference_high",
}


def check_cells(c: AgencyCheck) -> list:
    """One agency's comparison as the cells of `CHECKS_HEADER` (the CSV's and the Excel
    sheet's row)."""
    low, high = c.followup_interval()
    check = c.check
    return [
        c.code,
        c.name,
        c.sampled,
        c.answered,
        c.refused,
        c.unreachable,
        c.pending,
        c.response_rate,
        c.followup_satisfied,
        c.followup_rate,
        low,
        high,
        c.self_satisfied,
        c.self_responses,
        c.self_rate,
        check.difference if check else None,
        check.low if check else None,
        check.high if check else None,
        ("yes" if check.differs else "no") if check else "",
    ]


def checks_table(checks: list[AgencyCheck], fmt: str = "csv") -> bytes:
    return write_table(fmt, CHECKS_HEADER, [check_cells(c) for c in checks], sheet="followup")
