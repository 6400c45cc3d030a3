"""Dossiers handled per desk and span of days, as the integrator reports them: the denominator
of a desk's response rate where it is known (docs/integrity.md, "Response rates").

One write path, `record`, serves the API (`POST /api/v1/dossier-counts`) and the import
(CSV/XLSX, all or nothing, like `survey.imports`). A span is a period string
(`survey.periods.parse_period`: 2026-07, 2026-Q3, 2026-07-01..2026-07-15, ...). The spans of
one desk never overlap: reporting the same span again replaces its number (idempotent), a span
that overlaps another one of the desk is refused. A report period uses a desk's numbers only
when the desk's spans inside it cover it day for day (`handled_in`); otherwise the desk keeps
the tickets as its denominator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _

from survey.extensions import db
from survey.imports import ImportResult, Progress, Table, by_name, each_row, run
from survey.models import Desk, DossierCount, utcnow
from survey.periods import Period, PeriodError, parse_period

MAX_HANDLED = 10_000_000  # per desk and span: far above any one-stop desk's quarter
COLUMNS = {
    "desk_code": "desk_code",
    "desk": "desk_code",
    "mã quầy": "desk_code",
    "period": "period",
    "kỳ": "period",
    "handled": "handled",
    "dossiers_handled": "handled",
    "số hồ sơ": "handled",
    "số hồ sơ đã giải quyết": "handled",
}
REQUIRED = ("desk_code", "period", "handled")
HEADER = ["desk_code", "period", "handled"]


class CountError(ValueError):
    """A count that cannot be stored; the message is translated."""


def _overlap(desk_id: int, start: date, end: date) -> DossierCount | None:
    """Another span of the desk that shares a day with [start, end]."""
    return db.session.scalar(
        sa.select(DossierCount)
        .where(
            DossierCount.desk_id == desk_id,
            DossierCount.start <= end,
            DossierCount.end >= start,
            sa.not_(sa.and_(DossierCount.start == start, DossierCount.end == end)),
        )
        .limit(1)
    )


def record(desk: Desk, span: Period, handled: int, source: str) -> str:
    """Store the number of dossiers `desk` handled in `span`: "created", "updated" or
    "unchanged". Raises `CountError` when the span overlaps another span of the desk. Does not
    commit."""
    if not 0 <= handled <= MAX_HANDLED:
        raise CountError(
            _("The number of dossiers must be a whole number from 0 to %(n)d.", n=MAX_HANDLED)
        )
    other = _overlap(desk.id, span.start, span.end)
    if other is not None:
        raise CountError(
            _(
                "The desk %(desk)s already has a count for %(start)s–%(end)s, which overlaps "
                "this period; send the same period to replace it.",
                desk=desk.code,
                start=other.start.isoformat(),
                end=other.end.isoformat(),
            )
        )
    existing = db.session.scalar(
        sa.select(DossierCount).where(
            DossierCount.desk_id == desk.id,
            DossierCount.start == span.start,
            DossierCount.end == span.end,
        )
    )
    if existing is None:
        db.session.add(
            DossierCount(
                desk_id=desk.id,
                start=span.start,
                end=span.end,
                handled=handled,
                source=source[:60],
                updated_at=utcnow(),
            )
        )
        db.session.flush()
        return "created"
    if existing.handled == handled:
        return "unchanged"
    existing.handled, existing.source, existing.updated_at = handled, source[:60], utcnow()
    db.session.flush()
    return "updated"


def handled_in(period: Period, desk_ids: Iterable[int] | None = None) -> dict[int, int]:
    """{desk id: dossiers handled in `period`} for the desks whose spans inside the period
    cover every one of its days (spans never overlap, so their days add up)."""
    query = sa.select(
        DossierCount.desk_id, DossierCount.start, DossierCount.end, DossierCount.handled
    ).where(DossierCount.start >= period.start, DossierCount.end <= period.end)
    if desk_ids is not None:
        query = query.where(DossierCount.desk_id.in_(sorted(desk_ids)))
    days: dict[int, int] = defaultdict(int)
    handled: dict[int, int] = defaultdict(int)
    for desk_id, start, end, n in db.session.execute(query):
        days[desk_id] += (end - start).days + 1
        handled[desk_id] += n
    return {d: handled[d] for d in days if days[d] == period.days}


def import_counts(
    stream: BinaryIO,
    *,
    scope: set[int] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Create or update counts from a file with the columns desk_code, period, handled; every
    row is checked and nothing is stored unless all are good. `scope` (agency ids, None for
    all) limits the desks."""
    result = ImportResult()

    def work(table: Table) -> None:
        columns = table.columns(COLUMNS, REQUIRED)
        desks = {
            d.code: d
            for d in db.session.scalars(sa.select(Desk))
            if scope is None or d.agency_id in scope
        }
        rows: list[tuple[int, Desk, Period, int]] = []
        seen: dict[tuple[str, date, date], int] = {}
        for number, cells in each_row(table, result, progress):
            cell = by_name(cells, columns)
            before = len(result.errors)
            desk = desks.get(cell("desk_code"))
            if desk is None:
                result.add_error(
                    number, "desk_code", _("Unknown desk code %(code)s.", code=cell("desk_code"))
                )
            try:
                span = parse_period(cell("period"))
            except PeriodError as error:
                result.add_error(number, "period", str(error))
                span = None
            raw = cell("handled").replace(".", "").replace(",", "").strip()
            if not raw.isdigit() or int(raw) > MAX_HANDLED:
                result.add_error(
                    number,
                    "handled",
                    _(
                        "The number of dossiers must be a whole number from 0 to %(n)d.",
                        n=MAX_HANDLED,
                    ),
                )
            if desk is not None and span is not None:
                key = (desk.code, span.start, span.end)
                if key in seen:
                    result.add_error(
                        number,
                        "period",
                        _(
                            "This desk and period are already on row %(other)d.",
                            other=seen[key],
                        ),
                    )
                seen.setdefault(key, number)
            if len(result.errors) == before and not result.truncated:
                rows.append((number, desk, span, int(raw)))
        if not result.ok:
            return
        for number, desk, span, handled in rows:
            try:
                status = record(desk, span, handled, "import")
            except CountError as error:
                result.add_error(number, "period", str(error))
                if result.full:
                    break
                continue
            if status == "created":
                result.created += 1
            elif status == "updated":
                result.updated += 1
            else:
                result.unchanged += 1

    return run(lambda: Table(stream), work, result, dry_run)
