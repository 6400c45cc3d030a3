"""E-mail: alert messages and the weekly digest go into a stored outbox, which is delivered over
SMTP (the standard library's smtplib and email) and retried with back-off while SMTP is down.

Each alert reaches each recipient once (`AlertDelivery`), each digest once a week (its outbox
key), and a message is marked sent only after the SMTP server accepted it: a crash between the
two sends it again, with the same Message-ID, so that mail clients show it once.

One cohesive thing, the outbox from queueing to delivery and retry, hence over 400 lines.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template, url_for
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy.exc import IntegrityError

from survey import periods
from survey.alerts import service
from survey.alerts.models import Alert, AlertDelivery, AlertKind, AlertState, OutboxMessage
from survey.cases.models import OPEN_STATUSES, Case
from survey.extensions import db
from survey.models import Agency, Response, Status, User, utcnow
from survey.reporting.formatting import Numbers
from survey.scope import visible_agency_ids

# Retry after 5 minutes, then 10, 20, ... up to 6 hours between attempts; never give up.
FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)
CLAIM = timedelta(minutes=10)
# Alerts listed in one message; more are counted and linked.
MAX_LISTED = 50

# Alerts and digests are written in Vietnamese (force_locale), numbers too: 85,0%.
VI = Numbers("vi")


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), LONGEST_RETRY)


def _base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"


def link(endpoint: str, **values) -> str:
    """An absolute link on PUBLIC_BASE_URL, for e-mails (no request to take the host from)."""
    return _base_url() + url_for(endpoint, **values)


def _render(template: str, **context) -> tuple[str, str]:
    """The text and HTML parts of a message, in Vietnamese, with absolute links."""
    with current_app.test_request_context(base_url=_base_url()), force_locale("vi"):
        text = render_template(f"mail/{template}.txt", link=link, **context)
        html = render_template(f"mail/{template}.html", link=link, **context)
    return text, html


def _queue(key: str, user: User, subject: str, text: str, html: str, now: datetime):
    message = OutboxMessage(
        key=key,
        user_id=user.id,
        recipient=user.email,
        subject=subject,
        text_body=text,
        html_body=html,
        created_at=now,
        next_attempt_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


# ---- composing -------------------------------------------------------------------------------


def alert_summary(alert: Alert) -> str:
    """One sentence about an alert, in the current language (pages and e-mails)."""
    detail = alert.detail or {}
    name = alert.agency.name
    if alert.kind == AlertKind.DROP:
        return gettext(
            "%(agency)s: dissatisfaction is rising. %(share)s of its latest %(n)d ratings were dissatisfied, against %(baseline)s usually.",
            agency=name,
            share=_percent(detail.get("recent_share")),
            n=detail.get("recent_n", 0),
            baseline=_percent(detail.get("baseline")),
        )
    if alert.kind == AlertKind.BELOW:
        period = periods.parse_period(detail["period"]).label()
        return gettext(
            "%(agency)s is below its target of %(target)s in %(period)s: %(rate)s satisfied (interval %(low)s–%(high)s, %(n)d ratings).",
            agency=name,
            target=_percent(detail.get("target")),
            period=period,
            rate=_percent(detail.get("rate")),
            low=_percent(detail.get("low")),
            high=_percent(detail.get("high")),
            n=detail.get("valid", 0),
        )
    due = detail.get("due_on", "")
    return gettext(
        "%(agency)s: case %(code)s was due on %(due)s and is not answered yet.",
        agency=name,
        code=alert.case.display_code if alert.case else detail.get("code", ""),
        due="/".join(reversed(due.split("-"))) if due else "",
    )


def _percent(value) -> str:
    """Alerts are written in Vietnamese whatever the request's language."""
    return VI.percent(value)


def compose_alerts(now: datetime) -> int:
    """One message per recipient with the alerts of their scope they have not been sent yet."""
    fresh = db.session.scalars(
        sa.select(Alert)
        .where(Alert.state != AlertState.RESOLVED)
        .order_by(Alert.raised_at, Alert.id)
    ).all()
    if not fresh:
        return 0
    sent = {
        (row.alert_id, row.user_id)
        for row in db.session.execute(
            sa.select(AlertDelivery.alert_id, AlertDelivery.user_id).where(
                AlertDelivery.alert_id.in_([a.id for a in fresh])
            )
        )
    }
    ancestors: dict[int, set[int]] = {}
    queued = 0
    for user in service.recipients():
        mine = [
            a
            for a in fresh
            if (a.id, user.id) not in sent and service.covers(user, a.agency_id, ancestors)
        ]
        if not mine:
            continue
        key = f"alerts:{user.id}:{mine[0].id}-{mine[-1].id}:{len(mine)}"
        with force_locale("vi"):
            subject = ngettext(
                "[hailong] %(num)d new alert for your agencies",
                "[hailong] %(num)d new alerts for your agencies",
                len(mine),
            )
            lines = [(alert, alert_summary(alert)) for alert in mine[:MAX_LISTED]]
        text, html = _render("alerts", user=user, alerts=lines, total=len(mine))
        try:
            message = _queue(key, user, subject, text, html, now)
            db.session.add_all(
                AlertDelivery(alert_id=a.id, user_id=user.id, message_id=message.id) for a in mine
            )
            db.session.commit()
        except IntegrityError:  # another run queued them first
            db.session.rollback()
            continue
        queued += 1
    return queued


@dataclass(frozen=True)
class Digest:
    start: datetime  # naive UTC bounds of the week
    end: datetime
    label: str
    valid: int
    satisfied: int
    flagged: int
    cases_opened: int
    cases_answered: int
    cases_overdue: int
    alerts_raised: int
    alerts_open: int


def _digest_week(now: datetime) -> tuple[str, datetime, datetime] | None:
    """The ISO week the digest due at `now` covers (the week before), or None before the
    configured weekday and hour."""
    config = current_app.config
    local = periods.to_local(now)
    monday = local.date() - timedelta(days=local.weekday())
    due = datetime.combine(
        monday + timedelta(days=config["ALERT_DIGEST_WEEKDAY"]), datetime.min.time()
    ) + timedelta(hours=config["ALERT_DIGEST_HOUR"])
    if local < due:
        return None
    start = monday - timedelta(days=7)
    year, week, _ = start.isocalendar()
    return (
        f"{year}-W{week:02d}",
        periods.local_midnight_utc(start),
        periods.local_midnight_utc(monday),
    )


def digest_for(user: User, start: datetime, end: datetime, label: str, now: datetime) -> Digest:
    scope = visible_agency_ids(user.agency_id)

    def within(query, column):
        return query if scope is None else query.where(column.in_(scope))

    counts = db.session.execute(
        within(
            sa.select(
                sa.func.count().filter(Response.status == Status.VALID),
                sa.func.count().filter(Response.status == Status.VALID, Response.satisfied),
                sa.func.count().filter(Response.status == Status.FLAGGED),
            ).where(Response.occurred_at >= start, Response.occurred_at < end),
            Response.agency_id,
        )
    ).one()
    in_week = sa.and_(Case.opened_at >= start, Case.opened_at < end)
    cases = db.session.execute(
        within(
            sa.select(
                sa.func.count().filter(in_week),
                sa.func.count().filter(in_week, Case.answered_at.is_not(None)),
                sa.func.count().filter(
                    Case.status.in_(OPEN_STATUSES),
                    Case.due_on < periods.to_local(now).date(),
                ),
            ),
            Case.agency_id,
        )
    ).one()
    alerts = db.session.execute(
        within(
            sa.select(
                sa.func.count().filter(Alert.raised_at >= start, Alert.raised_at < end),
                sa.func.count().filter(Alert.state != AlertState.RESOLVED),
            ),
            Alert.agency_id,
        )
    ).one()
    return Digest(start, end, label, *map(int, counts), *map(int, cases), *map(int, alerts))


def compose_digests(now: datetime) -> int:
    week = _digest_week(now)
    if week is None:
        return 0
    label, start, end = week
    queued = 0
    for user in service.recipients():
        key = f"digest:{user.id}:{label}"
        if db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.key == key)):
            continue
        digest = digest_for(user, start, end, label, now)
        scope_name = db.session.get(Agency, user.agency_id).name if user.agency_id else None
        with force_locale("vi"):
            subject = gettext(
                "[hailong] Weekly summary %(first)s–%(last)s",
                first=periods.to_local(start).strftime("%d/%m"),
                last=(periods.to_local(end) - timedelta(days=1)).strftime("%d/%m/%Y"),
            )
        text, html = _render(
            "digest",
            user=user,
            digest=digest,
            scope_name=scope_name,
            first=periods.to_local(start).date(),
            last=(periods.to_local(end) - timedelta(days=1)).date(),
            percent=_percent,
        )
        try:
            _queue(key, user, subject, text, html, now)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        queued += 1
    return queued


# ---- delivering ------------------------------------------------------------------------------


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    error: str | None = None


def _sender() -> Address:
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    username, _, domain = address.partition("@")
    return Address(display_name=name, username=username, domain=domain or "localhost")


def build(message: OutboxMessage) -> EmailMessage:
    """The MIME message: plain text and HTML alternatives, UTF-8, a stable Message-ID."""
    sender = _sender()
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = message.recipient
    email["Date"] = format_datetime(message.created_at.replace(tzinfo=UTC))
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:16]
    email["Message-ID"] = f"<hailong.{message.id}.{digest}@{sender.domain}>"
    email["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the message 7-bit clean for any relay; the text stays readable.
    email.set_content(message.text_body, charset="utf-8", cte="quoted-printable")
    email.add_alternative(
        message.html_body, subtype="html", charset="utf-8", cte="quoted-printable"
    )
    return email


def connect() -> smtplib.SMTP:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return smtp


def _claim(message_id: int, now: datetime) -> bool:
    """Hold the message for this run (atomically), so that a concurrent run skips it."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + CLAIM)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _failed(message: OutboxMessage, error: Exception | str, now: datetime) -> None:
    message.attempts += 1
    message.next_attempt_at = now + backoff(message.attempts)
    message.claimed_until = None
    message.last_error = str(error)[:500]


def deliver(now: datetime | None = None, ids: list[int] | None = None) -> Delivery:
    """Send the messages that are due (or those in `ids`), over one SMTP connection."""
    now = now or utcnow()
    result = Delivery()
    query = sa.select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
    if ids is None:
        query = query.where(OutboxMessage.next_attempt_at <= now)
    else:
        query = query.where(OutboxMessage.id.in_(ids))
    due = list(db.session.scalars(query.order_by(OutboxMessage.id)))
    if not due:
        return result
    if not current_app.config["MAIL_SERVER"]:
        result.waiting = len(due)
        result.error = "MAIL_SERVER is not set"
        return result
    claimed = [message_id for message_id in due if _claim(message_id, now)]
    if not claimed:
        return result
    try:
        smtp = connect()
    except (OSError, smtplib.SMTPException) as error:
        for message in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id.in_(claimed))
        ):
            _failed(message, error, now)
        db.session.commit()
        result.failed = len(claimed)
        result.error = f"{type(error).__name__}: {error}"
        return result
    try:
        for message_id in claimed:
            message = db.session.get(OutboxMessage, message_id)
            try:
                smtp.send_message(build(message))
            except (OSError, smtplib.SMTPException) as error:
                _failed(message, error, now)
                result.failed += 1
                result.error = f"{type(error).__name__}: {error}"
            else:
                message.sent_at = utcnow()
                message.claimed_until = None
                message.attempts += 1
                message.last_error = None
                result.sent += 1
            db.session.commit()
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return result


def pending_count() -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None))
        )
        or 0
    )
