"""Per agency and period: how many cases were opened, answered, answered on time, and how long
answers took (criterion 8: handling feedback and petitions).

A case belongs to the period in which it was opened. It is *answered* once a reply is saved, and
*on time* when that happened (Vietnam date) by its due date. The on-time share is taken over the
cases that are *due*: answered, or past their due date (a case still within its time is not yet
late). The time to answer is in calendar days, from opening to the first reply.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from survey.cases.models import Case
from survey.extensions import db
from survey.periods import Period, local_today, to_local


@dataclass
class CaseCounts:
    opened: int = 0
    answered: int = 0
    due: int = 0  # answered, or past their due date
    on_time: int = 0
    days: list[float] = field(default_factory=list)  # time to answer of each answered case

    def add(self, other: CaseCounts) -> None:
        self.opened += other.opened
        self.answered += other.answered
        self.due += other.due
        self.on_time += other.on_time
        self.days.extend(other.days)

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.opened if self.opened else None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days) if self.days else None


def case_counts(
    period: Period, agency_ids: Iterable[int] | None = None, today: date | None = None
) -> dict[int, CaseCounts]:
    """The counts of each agency's own cases opened in `period` (agencies without cases are
    absent)."""
    today = today or local_today()
    low, high = period.utc_bounds()
    query = sa.select(Case.agency_id, Case.opened_at, Case.answered_at, Case.due_on).where(
        Case.opened_at >= low, Case.opened_at < high
    )
    if agency_ids is not None:
        query = query.where(Case.agency_id.in_(list(agency_ids)))
    found: dict[int, CaseCounts] = {}
    for row in db.session.execute(query):
        counts = found.setdefault(row.agency_id, CaseCounts())
        counts.opened += 1
        if row.answered_at is not None:
            counts.answered += 1
            counts.due += 1
            counts.on_time += to_local(row.answered_at).date() <= row.due_on
            counts.days.append((row.answered_at - row.opened_at).total_seconds() / 86400)
        elif row.due_on < today:
            counts.due += 1
    return found


def pooled(counts: dict[int, CaseCounts], members: Iterable[int]) -> CaseCounts:
    """The counts of several agencies together (a subtree)."""
    total = CaseCounts()
    for agency_id in members:
        if agency_id in counts:
            total.add(counts[agency_id])
    return total
