"""Alerts, the state of each agency's CUSUM chart, subscriptions and the mail outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.cases.models import Case
from survey.extensions import db
from survey.models import Agency, StrEnum, User, _enum, utcnow


class AlertKind(StrEnum):
    DROP = "drop"  # the CUSUM chart of the dissatisfied share signalled
    BELOW = "below"  # the agency's verdict for a period is "below" the target
    OVERDUE = "overdue"  # a case passed its due date unanswered


class AlertState(StrEnum):
    NEW = "new"
    SEEN = "seen"
    RESOLVED = "resolved"


class Alert(db.Model):
    """Something a leader should know about an agency, stored once (`key` is unique)."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What makes the alert the same one on every run: "below:12:2026-Q3", "overdue:345", ...
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[AlertKind] = mapped_column(_enum(AlertKind, "alert_kind"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    case_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("feedback_case.id", ondelete="CASCADE")
    )
    state: Mapped[AlertState] = mapped_column(
        _enum(AlertState, "alert_state"),
        default=AlertState.NEW,
        server_default=AlertState.NEW.value,
    )
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(sa.String(500))
    # The figures behind the alert, for the page and the e-mail (period, rate, threshold, ...).
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    agency: Mapped[Agency] = relationship()
    case: Mapped[Case | None] = relationship()
    resolved_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.Index("ix_alert_agency_state", "agency_id", "state"),)


class CusumState(db.Model):
    """Where each agency's CUSUM chart stands between two runs of `flask alerts run`."""

    __tablename__ = "cusum_state"

    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), primary_key=True)
    statistic: Mapped[float] = mapped_column(default=0.0)
    # The last rating counted, in the order ratings reached the server.
    cursor_at: Mapped[datetime] = mapped_column()
    cursor_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    # The baseline: the dissatisfied share by channel, the yearly volume and the threshold.
    risks: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    volume: Mapped[int] = mapped_column(default=0)
    threshold: Mapped[float | None] = mapped_column()
    baseline_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertSubscription(db.Model):
    """A user who asked for alert e-mails and the weekly digest (leaders get them anyway)."""

    __tablename__ = "alert_subscription"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(db.Model):
    """An e-mail waiting for (or done with) delivery: nothing is lost while SMTP is down."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the message is, once: "alerts:7:31-35", "digest:7:2026-W48".
    key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A run that is sending the message holds it until then, so that two runs never both send.
    claimed_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    __table_args__ = (sa.Index("ix_mail_outbox_pending", "sent_at", "next_attempt_at"),)


class AlertDelivery(db.Model):
    """Which user was sent which alert, in which message: each alert reaches each user once."""

    __tablename__ = "alert_delivery"

    alert_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("mail_outbox.id", ondelete="CASCADE"))
