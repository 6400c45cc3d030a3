"""Raising alerts: a drop noticed by each agency's CUSUM chart, a verdict that turned "below" for
the period, a case past its due date. Each alert is stored once (its `key` is unique), so
running the detection again raises nothing new."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

import analysis
from survey import periods, reporting
from survey.alerts.models import Alert, AlertKind, AlertState, CusumState
from survey.cases.models import OPEN_STATUSES, Case
from survey.extensions import db
from survey.models import Response, Status, utcnow

# Ratings reach the server up to 30 days after they were given (a kiosk's offline queue, the
# API's accepted window): the CUSUM reads new ratings among those given since then.
LATE_DAYS = 30
# Ratings received in the last moments may still be committing: they wait for the next run.
SETTLE = timedelta(minutes=1)
# On its first run, an agency's chart starts this long ago.
FIRST_RUN_DAYS = 7
# Prior weight (in ratings) that pulls a channel's baseline toward the agency's overall share.
CHANNEL_PRIOR = 20
# A baseline is estimated again after this long.
BASELINE_REFRESH = timedelta(days=7)


@dataclass
class Detection:
    """What one run found: alerts raised, by kind, and alerts resolved by themselves."""

    raised: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    resolved: int = 0
    charts: int = 0

    @property
    def total(self) -> int:
        return sum(self.raised.values())


def run(now: datetime | None = None) -> Detection:
    """Detect everything, commit, and return what was found."""
    now = now or utcnow()
    found = Detection()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # labels in the report
        overdue_cases(now, found)
        verdicts_below(now, found)
        cusum_drops(now, found)
    return found


def _raise(found: Detection, alert: Alert) -> bool:
    """Store `alert` unless its key exists (committed alone, so that a race loses nothing)."""
    if db.session.scalar(sa.select(Alert.id).where(Alert.key == alert.key)) is not None:
        return False
    db.session.add(alert)
    try:
        db.session.commit()
    except IntegrityError:  # another run stored the same key a moment ago
        db.session.rollback()
        return False
    found.raised[str(alert.kind)] += 1
    return True


# ---- cases past their due date ---------------------------------------------------------------


def overdue_cases(now: datetime, found: Detection) -> None:
    today = periods.to_local(now).date()
    late = db.session.scalars(
        sa.select(Case)
        .where(Case.status.in_(OPEN_STATUSES), Case.due_on < today)
        .where(~sa.exists().where(Alert.case_id == Case.id, Alert.kind == AlertKind.OVERDUE))
        .order_by(Case.id)
    ).all()
    for case in late:
        _raise(
            found,
            Alert(
                key=f"overdue:{case.id}",
                kind=AlertKind.OVERDUE,
                agency_id=case.agency_id,
                case_id=case.id,
                raised_at=now,
                detail={"code": case.code, "due_on": case.due_on.isoformat()},
            ),
        )
    # An overdue alert whose case has since been answered or closed resolves itself.
    settled = db.session.scalars(
        sa.select(Alert)
        .join(Case, Alert.case_id == Case.id)
        .where(
            Alert.kind == AlertKind.OVERDUE,
            Alert.state != AlertState.RESOLVED,
            Case.status.not_in(OPEN_STATUSES),
        )
    ).all()
    for alert in settled:
        alert.state = AlertState.RESOLVED
        alert.resolved_at = now
        alert.note = "answered"
    found.resolved += len(settled)
    db.session.commit()


# ---- verdicts below the target ---------------------------------------------------------------


def verdicts_below(now: datetime, found: Detection) -> None:
    """Each agency whose verdict for the current or the last closed quarter is "below"."""
    today = periods.to_local(now).date()
    current = periods.quarter_of(today)
    for period in (current.previous(), current):
        options = reporting.parse_options({"period": period.key}, period)
        report = reporting.build_report(options)
        for row in report.rows:
            if row.verdict != "below":
                continue
            _raise(
                found,
                Alert(
                    key=f"below:{row.id}:{period.key}",
                    kind=AlertKind.BELOW,
                    agency_id=row.id,
                    raised_at=now,
                    detail={
                        "period": period.key,
                        "rate": row.rate,
                        "low": row.low,
                        "high": row.high,
                        "target": row.target,
                        "valid": row.valid,
                    },
                ),
            )


# ---- drops noticed by the CUSUM chart --------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    risks: dict[str, float]  # channel -> probability that a rating is dissatisfied
    volume: int  # valid ratings a year
    threshold: float


def baselines(now: datetime, agency_ids: set[int] | None = None) -> dict[int, Baseline]:
    """Each agency's baseline from its own valid ratings over ALERT_BASELINE_DAYS ending
    ALERT_BASELINE_LAG_DAYS ago: the dissatisfied share by channel (shrunk toward the agency's
    overall share), the yearly volume, and the CUSUM threshold for the configured number of
    false alarms a year. Agencies with fewer than ALERT_BASELINE_MIN ratings get none."""
    config = current_app.config
    end = now - timedelta(days=config["ALERT_BASELINE_LAG_DAYS"])
    start = end - timedelta(days=config["ALERT_BASELINE_DAYS"])
    query = (
        sa.select(
            Response.agency_id,
            sa.type_coerce(Response.channel, sa.String).label("channel"),
            sa.func.count().label("n"),
            sa.func.sum(sa.case((Response.satisfied, 0), else_=1)).label("dissatisfied"),
        )
        .where(
            Response.occurred_at >= start,
            Response.occurred_at < end,
            Response.status == Status.VALID,
        )
        .group_by(Response.agency_id, Response.channel)
    )
    if agency_ids is not None:
        query = query.where(Response.agency_id.in_(agency_ids))
    counts: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for row in db.session.execute(query):
        counts[row.agency_id][row.channel] = (int(row.n), int(row.dissatisfied or 0))
    found = {}
    for agency_id, by_channel in counts.items():
        n = sum(c[0] for c in by_channel.values())
        if n < config["ALERT_BASELINE_MIN"]:
            continue
        d = sum(c[1] for c in by_channel.values())
        overall = (d + 0.5) / (n + 1.0)
        risks = {
            channel: (cd + CHANNEL_PRIOR * overall) / (cn + CHANNEL_PRIOR)
            for channel, (cn, cd) in by_channel.items()
        }
        volume = round(n * 365 / config["ALERT_BASELINE_DAYS"])
        arl = max(20.0, volume / config["ALERT_FALSE_ALARMS_PER_YEAR"])
        channels = sorted(risks)
        threshold = analysis.cusum_threshold(
            [risks[c] for c in channels],
            arl,
            odds_ratio=config["ALERT_ODDS_RATIO"],
            weights=[by_channel[c][0] for c in channels],
        )
        found[agency_id] = Baseline(risks, volume, round(threshold, 4))
    return found


def cusum_drops(now: datetime, found: Detection) -> None:
    """Feed each agency's chart the ratings received since the last run, in arrival order."""
    states = {s.agency_id: s for s in db.session.scalars(sa.select(CusumState))}
    stale = [
        s.agency_id
        for s in states.values()
        if s.baseline_at is None or now - s.baseline_at > BASELINE_REFRESH
    ]
    need = set(stale) | _new_agencies(now, states)
    fresh = baselines(now, need) if need else {}
    for agency_id, baseline in fresh.items():
        state = states.get(agency_id)
        if state is None:
            state = CusumState(
                agency_id=agency_id, statistic=0.0, cursor_at=now - timedelta(days=FIRST_RUN_DAYS)
            )
            db.session.add(state)
            states[agency_id] = state
        state.risks, state.volume = baseline.risks, baseline.volume
        state.threshold, state.baseline_at = baseline.threshold, now
    charted = {a: s for a, s in states.items() if s.threshold is not None}
    if not charted:
        db.session.commit()
        return
    settled = now - SETTLE
    earliest = min(s.cursor_at for s in charted.values())
    rows = db.session.execute(
        sa.select(
            Response.agency_id,
            Response.id,
            Response.received_at,
            sa.type_coerce(Response.channel, sa.String).label("channel"),
            Response.satisfied,
        )
        .where(
            Response.occurred_at >= earliest - timedelta(days=LATE_DAYS),
            Response.received_at >= earliest,
            Response.received_at < settled,
            Response.status == Status.VALID,
            Response.agency_id.in_(charted),
        )
        .order_by(Response.agency_id, Response.received_at, Response.id)
    )
    by_agency: dict[int, list] = defaultdict(list)
    for row in rows:
        state = charted[row.agency_id]
        if (row.received_at, row.id) <= (state.cursor_at, state.cursor_id or uuid.UUID(int=0)):
            continue
        by_agency[row.agency_id].append(row)
    for agency_id, ratings in by_agency.items():
        _feed(charted[agency_id], ratings, now, found)
    found.charts = len(charted)
    db.session.commit()


def _new_agencies(now: datetime, states: dict[int, CusumState]) -> set[int]:
    """Agencies with recent ratings and no chart yet: they may have a baseline by now."""
    recent = sa.select(Response.agency_id).where(
        Response.occurred_at >= now - timedelta(days=LATE_DAYS)
    )
    return set(db.session.scalars(recent.distinct())) - set(states)


def _feed(state: CusumState, ratings: list, now: datetime, found: Detection) -> None:
    config = current_app.config
    overall = sum(state.risks.values()) / len(state.risks)
    outcomes = np.array([not r.satisfied for r in ratings], dtype=bool)
    risk = np.array([state.risks.get(r.channel, overall) for r in ratings], dtype=float)
    chart = analysis.bernoulli_cusum(
        outcomes,
        risk,
        state.threshold,
        odds_ratio=config["ALERT_ODDS_RATIO"],
        start=state.statistic,
    )
    signals = np.flatnonzero(chart.alarm)
    if signals.size:
        first = ratings[int(signals[0])]
        last = ratings[int(signals[-1])]
        window = outcomes[max(0, int(signals[-1]) - 49) : int(signals[-1]) + 1]
        detail = {
            "threshold": state.threshold,
            "statistic": float(chart.statistic[int(signals[-1])]),
            "baseline": round(float(np.average(risk)), 4),
            "recent_share": round(float(window.mean()), 4),
            "recent_n": int(window.size),
            "volume": state.volume,
            "signals": int(signals.size),
            "last_signal_at": last.received_at.isoformat(timespec="seconds"),
        }
        open_alert = db.session.scalar(
            sa.select(Alert).where(
                Alert.agency_id == state.agency_id,
                Alert.kind == AlertKind.DROP,
                Alert.state != AlertState.RESOLVED,
            )
        )
        if open_alert is not None:
            # The drop goes on: the open alert says so, no new alert (nor e-mail) is raised.
            detail["signals"] += open_alert.detail.get("signals", 1)
            open_alert.detail = {**open_alert.detail, **detail}
        else:
            _raise(
                found,
                Alert(
                    key=f"drop:{state.agency_id}:{first.id}",
                    kind=AlertKind.DROP,
                    agency_id=state.agency_id,
                    raised_at=now,
                    detail=detail,
                ),
            )
    state.statistic = float(chart.last)
    state.cursor_at, state.cursor_id = ratings[-1].received_at, ratings[-1].id
    state.updated_at = now
