"""Cases: a citizen's comment that the agency must answer, and the calendar of days off."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models import Agency, Response, StrEnum, User, _enum, utcnow

# A reply is a letter, not a report: about two printed pages.
REPLY_MAX = 4000
CODE_LENGTH = 10


class CaseStatus(StrEnum):
    NEW = "new"  # mới
    ASSIGNED = "assigned"  # đã giao
    ANSWERED = "answered"  # đã trả lời
    CLOSED = "closed"  # đã đóng


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.ASSIGNED)


class Case(db.Model):
    """A comment that opened a case for its agency: assignee, due date, reply, status.

    Every change is kept in the audit log (`survey.audit`, actions ``case.*``, target the
    case's code). The reply is shown to the citizen only once `published_at` is set.
    """

    __tablename__ = "feedback_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the citizen types or follows: random, so that no one can read another's case.
    code: Mapped[str] = mapped_column(sa.String(CODE_LENGTH), unique=True)
    response_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("response.id", ondelete="CASCADE"), unique=True
    )
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    status: Mapped[CaseStatus] = mapped_column(
        _enum(CaseStatus, "case_status"),
        default=CaseStatus.NEW,
        server_default=CaseStatus.NEW.value,
    )
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last day (local) to answer: working days after the day the case was opened.
    due_on: Mapped[date] = mapped_column()
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    assigned_at: Mapped[datetime | None] = mapped_column()
    reply: Mapped[str | None] = mapped_column(sa.String(REPLY_MAX))
    # When the first reply was saved: "answered on time" compares its local date with due_on.
    answered_at: Mapped[datetime | None] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship()
    agency: Mapped[Agency] = relationship()
    assignee: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.Index("ix_feedback_case_agency_opened", "agency_id", "opened_at"),
        sa.Index("ix_feedback_case_status_due", "status", "due_on"),
        sa.CheckConstraint(f"length(reply) <= {REPLY_MAX}", name="reply_length"),
        sa.CheckConstraint(f"length(code) = {CODE_LENGTH}", name="code_length"),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def display_code(self) -> str:
        """The code as printed: two groups of five, easier to read out and type."""
        half = CODE_LENGTH // 2
        return f"{self.code[:half]}-{self.code[half:]}"

    def __repr__(self) -> str:
        return f"<Case {self.code} {self.status}>"


class Holiday(db.Model):
    """A public holiday (a day off besides the weekend), as an admin set it for its year."""

    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))


class HolidayYear(db.Model):
    """A year whose holidays an admin has edited: its `Holiday` rows replace the defaults."""

    __tablename__ = "holiday_year"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),)
