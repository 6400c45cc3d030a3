"""The follow-up sample: stratified random draws of returned dossiers and the calls' outcomes."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models import Agency, Response, StrEnum, Ticket, utcnow


class Outcome(StrEnum):
    PENDING = "pending"  # not called yet
    ANSWERED = "answered"  # trả lời
    REFUSED = "refused"  # từ chối
    UNREACHABLE = "unreachable"  # không liên lạc được


class FollowupDraw(db.Model):
    """One draw: the period, the size asked for, the seed that reproduces it, and the
    allocation {agency id: {"population": N_h, "sample": n_h}} over the strata (agencies)."""

    __tablename__ = "followup_draw"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(40))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    size: Mapped[int] = mapped_column()
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    allocation: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254))

    agency: Mapped[Agency | None] = relationship()
    items: Mapped[list[FollowupItem]] = relationship(
        back_populates="draw", cascade="all, delete-orphan", order_by="FollowupItem.id"
    )


class FollowupItem(db.Model):
    __tablename__ = "followup_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(sa.ForeignKey("followup_draw.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("ticket.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    outcome: Mapped[str] = mapped_column(sa.String(20), default=Outcome.PENDING.value)
    response_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("response.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime | None] = mapped_column()
    recorded_by: Mapped[str | None] = mapped_column(sa.String(254))

    draw: Mapped[FollowupDraw] = relationship(back_populates="items")
    ticket: Mapped[Ticket] = relationship()
    agency: Mapped[Agency] = relationship()
    response: Mapped[Response | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("draw_id", "ticket_id", name="uq_followup_item_draw_ticket"),
        sa.CheckConstraint(
            "outcome IN ('pending', 'answered', 'refused', 'unreachable')", name="outcome_values"
        ),
    )
