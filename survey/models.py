"""The data model. Every schema change goes through a migration in `migrations/versions`.

The core tables, one cohesive thing, hence over 400 lines; tables that belong to one area live
in that area (`survey/<area>/models.py`: cases, alerts, followup, languages).
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.fields import COMMENT_MAX_LENGTH


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


class Level(StrEnum):
    PROVINCE = "province"
    DEPARTMENT = "department"
    DISTRICT = "district"
    COMMUNE = "commune"
    SERVICE_UNIT = "service_unit"


class Kind(StrEnum):
    ADMINISTRATIVE = "administrative"
    HEALTH = "health"
    EDUCATION = "education"
    OTHER = "other"


class Channel(StrEnum):
    QR = "qr"
    KIOSK = "kiosk"
    PAPER = "paper"
    API = "api"
    FOLLOWUP = "followup"  # a call-back of a sampled dossier (survey.followup)


class Status(StrEnum):
    VALID = "valid"
    FLAGGED = "flagged"
    EXCLUDED = "excluded"


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    LEADER = "leader"  # lãnh đạo: reads and follows up, never administers (docs/admin.md)


class TargetScope(StrEnum):
    ALL = "all"
    KIND = "kind"
    AGENCY = "agency"


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    """Store enums as short strings with a CHECK constraint, the same on SQLite and PostgreSQL."""
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Agency(db.Model):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str | None] = mapped_column(sa.String(200))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    level: Mapped[Level] = mapped_column(_enum(Level, "agency_level"))
    kind: Mapped[Kind] = mapped_column(_enum(Kind, "agency_kind"), default=Kind.ADMINISTRATIVE)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    questionnaire_id: Mapped[int | None] = mapped_column(sa.ForeignKey("questionnaire.id"))
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    # The local date the merger took effect (0:00 Vietnam time): reports of periods that end
    # before it show the agency as it was (survey.reporting.mergers).
    merged_on: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Agency | None] = relationship(
        remote_side=[id], back_populates="children", foreign_keys=[parent_id]
    )
    children: Mapped[list[Agency]] = relationship(
        back_populates="parent", foreign_keys=[parent_id], order_by="Agency.code"
    )
    desks: Mapped[list[Desk]] = relationship(back_populates="agency", order_by="Desk.code")
    questionnaire: Mapped[Questionnaire | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        sa.CheckConstraint(
            "merged_on IS NULL OR merged_into_id IS NOT NULL", name="merged_on_with_successor"
        ),
    )

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class Desk(db.Model):
    __tablename__ = "desk"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    questionnaire_id: Mapped[int | None] = mapped_column(sa.ForeignKey("questionnaire.id"))
    # Codes of the admin-added languages its citizen page offers (survey/languages).
    languages: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship(back_populates="desks")
    questionnaire: Mapped[Questionnaire | None] = relationship()

    def current_questionnaire(self) -> Questionnaire:
        """The desk's own version, else its agency's (walking up the tree), else the default."""
        if self.questionnaire is not None:
            return self.questionnaire
        agency: Agency | None = self.agency
        while agency is not None:
            if agency.questionnaire is not None:
                return agency.questionnaire
            agency = agency.parent
        return Questionnaire.default()

    def __repr__(self) -> str:
        return f"<Desk {self.code}>"


class Questionnaire(db.Model):
    """A versioned questionnaire. Published versions are immutable; a change makes a new version.

    `levels` is an ordered list, best first: ``[{"code": "rat_hai_long", "label": {"vi": ..,
    "en": ..}, "face": ".."}, ...]``. `satisfied` lists the level codes that count as satisfied.
    `criteria` is a list of ``{"code": "c1", "label": {"vi": .., "en": ..}}`` answered on the
    same scale.
    """

    __tablename__ = "questionnaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int] = mapped_column()
    title: Mapped[dict] = mapped_column(sa.JSON)
    levels: Mapped[list] = mapped_column(sa.JSON)
    satisfied: Mapped[list] = mapped_column(sa.JSON)
    criteria: Mapped[list] = mapped_column(sa.JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column()
    is_default: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("key", "version", name="uq_questionnaire_key_version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @classmethod
    def default(cls) -> Questionnaire:
        found = db.session.scalar(
            sa.select(cls)
            .where(cls.is_default, cls.published_at.is_not(None))
            .order_by(cls.version.desc())
        )
        if found is None:
            raise LookupError("No default questionnaire is published; run `flask db upgrade`.")
        return found

    def level_codes(self) -> list[str]:
        return [level["code"] for level in self.levels]

    def criterion_codes(self) -> list[str]:
        return [criterion["code"] for criterion in self.criteria]

    def is_satisfied(self, level_code: str) -> bool:
        return level_code in self.satisfied

    def label(self, item: dict, locale: str) -> str:
        labels = item["label"] if "label" in item else item
        return labels.get(locale) or labels["vi"]

    def __repr__(self) -> str:
        return f"<Questionnaire {self.key} v{self.version}>"


class Response(db.Model):
    """One citizen's rating. The id is generated by the client, which makes retries idempotent."""

    __tablename__ = "response"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    desk_id: Mapped[int] = mapped_column(sa.ForeignKey("desk.id"))
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    questionnaire_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire.id"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "response_channel"))
    level: Mapped[str] = mapped_column(sa.String(40))
    satisfied: Mapped[bool] = mapped_column()
    comment: Mapped[str | None] = mapped_column(sa.String(COMMENT_MAX_LENGTH))
    dossier_code: Mapped[str | None] = mapped_column(sa.String(64))
    # When the citizen answered: the client's clock when it is trustworthy, else the server's.
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    client_time: Mapped[datetime | None] = mapped_column()
    status: Mapped[Status] = mapped_column(
        _enum(Status, "response_status"), default=Status.VALID, server_default=Status.VALID.value
    )
    status_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # A digest of the answer, to tell an honest retry (same id, same content) from a conflict.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    # Keyed, daily-rotated hash of the client address: for burst detection, never the raw IP.
    client_hash: Mapped[str | None] = mapped_column(sa.String(64))
    kiosk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("kiosk.id"))
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket.id"), unique=True)
    form_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    # The language the citizen answered in: vi, en or an admin-added code; None when unknown
    # (ratings from before it was recorded, paper forms).
    language: Mapped[str | None] = mapped_column(sa.String(16))
    # How a kiosk asked: "faces" (faces only, no text) or "standard"; None for other channels.
    mode: Mapped[str | None] = mapped_column(sa.String(20))
    # The answers as one short text (survey.patterns; None without answers), which the
    # indicator score's roll-up `pattern_half` counts. Set by the writers; a trigger on
    # `answer` recomputes it when an answer is written that it does not account for.
    answer_pattern: Mapped[str | None] = mapped_column(sa.String(24))

    desk: Mapped[Desk] = relationship()
    agency: Mapped[Agency] = relationship()
    questionnaire: Mapped[Questionnaire] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.Index("ix_response_agency_time", "agency_id", "occurred_at"),
        sa.Index("ix_response_desk_time", "desk_id", "occurred_at"),
        # Covers the report's GROUP BY over a period (migration 0003): the counts come from
        # the index alone (an index-only scan on PostgreSQL once vacuumed), never the table.
        sa.Index(
            "ix_response_time_covering",
            "occurred_at",
            "agency_id",
            "status",
            "satisfied",
            "channel",
        ),
        sa.Index("ix_response_status", "status"),
        sa.CheckConstraint(f"length(comment) <= {COMMENT_MAX_LENGTH}", name="comment_length"),
    )


class ResponseMonth(db.Model):
    """The monthly roll-up of `response`, kept by database triggers (migration 0014) in the
    transaction of every INSERT, UPDATE and DELETE, so it always equals the raw counts. Months
    are Vietnam time, as `yyyymm`. The app never writes it; reports read it for whole months."""

    __tablename__ = "response_month"

    month: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    responses: Mapped[int] = mapped_column()
    satisfied: Mapped[int] = mapped_column()


class PatternHalf(db.Model):
    """The half-monthly roll-up of answer patterns that the indicator score reads
    (survey.patterns): per half month (`yyyymm01`, `yyyymm15`, Vietnam time), agency,
    questionnaire and status of the responses, how many answered each pair of criteria at
    each pair of levels, as big-endian 32-bit integers. Kept by database triggers (migration
    0022) in the transaction of every write to `response`; the app never writes it."""

    __tablename__ = "pattern_half"

    half: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    counts: Mapped[bytes] = mapped_column(sa.LargeBinary)


class AnswerMonth(db.Model):
    """The monthly roll-up of `answer` by criterion, kept by database triggers (migration 0018)
    in the transaction of every write to `answer` or `response`: an answer counts under its
    response's month (Vietnam time, `yyyymm`), agency and status. The app never writes it;
    reports read it for whole months."""

    __tablename__ = "answer_month"

    month: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    criterion: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    answers: Mapped[int] = mapped_column()
    satisfied: Mapped[int] = mapped_column()


class DeskDay(db.Model):
    """The valid responses of one desk on one Vietnam-time day (a design-effect cluster), for
    the agency they were given to; kept by database triggers (migration 0020) in the
    transaction of every write to `response`. `day` counts days since 1970-01-01. A desk-day
    without valid responses has no row. The app never writes it."""

    __tablename__ = "desk_day"

    day: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(primary_key=True)
    responses: Mapped[int] = mapped_column()
    satisfied: Mapped[int] = mapped_column()


class ClusterMonth(db.Model):
    """The additive moments of an agency's desk-days in a Vietnam-time month (`yyyymm`): the
    number of clusters, their valid and satisfied responses, Σ satisfied²/valid and Σ valid²
    (`analysis.cluster_moments`); kept by the triggers of `desk_day` (migration 0020). The
    app never writes it; reports read it for whole months."""

    __tablename__ = "cluster_month"

    month: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    clusters: Mapped[int] = mapped_column()
    responses: Mapped[int] = mapped_column()
    satisfied: Mapped[int] = mapped_column()
    sum_x2_n: Mapped[float] = mapped_column(sa.Double())
    sum_n2: Mapped[int] = mapped_column(sa.BigInteger())


class AgencyMonth(db.Model):
    """The agency table's roll-up: an agency's responses in a Vietnam-time month (`yyyymm`) by
    status, the satisfied valid ones, and the valid and satisfied ones by channel
    (`valid_<channel>`, `satisfied_<channel>`: columns per `Channel`); kept by database triggers (migration 0021) in every write's
    transaction. One row per agency and month whatever the data, so a report's cost does not
    grow with it. The app never writes it; reports read it for whole months."""

    __tablename__ = "agency_month"

    month: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    valid: Mapped[int] = mapped_column()
    satisfied: Mapped[int] = mapped_column()
    flagged: Mapped[int] = mapped_column()
    excluded: Mapped[int] = mapped_column()
    valid_qr: Mapped[int] = mapped_column()
    valid_kiosk: Mapped[int] = mapped_column()
    valid_paper: Mapped[int] = mapped_column()
    valid_api: Mapped[int] = mapped_column()
    valid_followup: Mapped[int] = mapped_column()
    satisfied_qr: Mapped[int] = mapped_column()
    satisfied_kiosk: Mapped[int] = mapped_column()
    satisfied_paper: Mapped[int] = mapped_column()
    satisfied_api: Mapped[int] = mapped_column()
    satisfied_followup: Mapped[int] = mapped_column()


class LevelMonth(db.Model):
    """An agency's valid responses in a Vietnam-time month by overall rating level (the
    official figures' counts); kept with `agency_month` (migration 0021)."""

    __tablename__ = "level_month"

    month: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    valid: Mapped[int] = mapped_column()


class Answer(db.Model):
    """A per-criterion answer, kept in its own table so reports can count it in SQL."""

    __tablename__ = "answer"

    response_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("response.id", ondelete="CASCADE"), primary_key=True
    )
    criterion: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(40))
    satisfied: Mapped[bool] = mapped_column()

    response: Mapped[Response] = relationship(back_populates="answers")


class Target(db.Model):
    """The satisfaction target in force for a period and a scope."""

    __tablename__ = "target"

    id: Mapped[int] = mapped_column(primary_key=True)
    rate: Mapped[float] = mapped_column()
    valid_from: Mapped[date] = mapped_column()
    valid_to: Mapped[date | None] = mapped_column()
    scope: Mapped[TargetScope] = mapped_column(
        _enum(TargetScope, "target_scope"), default=TargetScope.ALL
    )
    kind: Mapped[Kind | None] = mapped_column(_enum(Kind, "target_kind"))
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    note: Mapped[str | None] = mapped_column(sa.String(200))

    agency: Mapped[Agency | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("rate > 0 AND rate < 1", name="rate_range"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"),
        sa.CheckConstraint(
            "(scope = 'all' AND kind IS NULL AND agency_id IS NULL)"
            " OR (scope = 'kind' AND kind IS NOT NULL AND agency_id IS NULL)"
            " OR (scope = 'agency' AND agency_id IS NOT NULL AND kind IS NULL)",
            name="scope_fields",
        ),
    )


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"), default=Role.ANALYST)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()
    # Part of the id in the session and the remember cookie (get_id): raising it ends every
    # session of the user (sign-out, password change or reset, disabling).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    agency: Mapped[Agency | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("role <> 'leader' OR agency_id IS NOT NULL", name="leader_has_agency"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def get_id(self) -> str:
        """Flask-Login's alternative id: `<id>.<session_version>`."""
        return f"{self.id}.{self.session_version}"

    def end_sessions(self) -> None:
        """End every session and remember cookie of this user (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1


@sa.event.listens_for(User, "before_update")
def _end_sessions_on_new_password_or_disabling(mapper, connection, target: User) -> None:
    """A new password (a change, an administrator's reset, the CLI) or disabling the account
    ends every session of the user, whichever code path made the change."""
    state = sa.inspect(target)
    new_password = state.attrs.password_hash.history.has_changes()
    disabled = state.attrs.active.history.has_changes() and not target.active
    if (new_password or disabled) and not state.attrs.session_version.history.has_changes():
        target.session_version = (target.session_version or 0) + 1


class ApiKey(db.Model):
    """An integrator's bearer key. Only a hash is stored; the key is shown once."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(128))
    scopes: Mapped[list] = mapped_column(sa.JSON, default=list)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    agency: Mapped[Agency | None] = relationship()


class Kiosk(db.Model):
    """A tablet enrolled for one desk. Its device token and enrolment code are stored hashed."""

    __tablename__ = "kiosk"

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(sa.ForeignKey("desk.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    enrol_code_hash: Mapped[str | None] = mapped_column(sa.String(128), unique=True)
    enrol_expires_at: Mapped[datetime | None] = mapped_column()
    token_prefix: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    token_hash: Mapped[str | None] = mapped_column(sa.String(128))
    enrolled_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column()
    app_version: Mapped[str | None] = mapped_column(sa.String(40))
    queue_length: Mapped[int | None] = mapped_column()
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    desk: Mapped[Desk] = relationship()


class Ticket(db.Model):
    """A one-time survey ticket for a dossier, printed as a QR code on the receipt."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    dossier_code: Mapped[str] = mapped_column(sa.String(64))
    desk_id: Mapped[int] = mapped_column(sa.ForeignKey("desk.id"))
    procedure: Mapped[str | None] = mapped_column(sa.String(300))
    due_date: Mapped[date | None] = mapped_column()
    returned_date: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_key.id"))

    desk: Mapped[Desk] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("desk_id", "dossier_code", name="uq_ticket_desk_dossier"),
    )


class Setting(db.Model):
    """A province-wide setting that administrators edit (survey.scoring), by key."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CacheVersion(db.Model):
    """One row: a counter that every change to agencies, desks, questionnaires and API keys
    moves, in its transaction, so that each process's caches know to drop what they hold
    (survey/cache.py)."""

    __tablename__ = "cache_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(60))
    target: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    user: Mapped[User | None] = relationship()


class LoginAttempt(db.Model):
    """Failed sign-ins per account, for throttling that holds across workers."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    client: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # hashed address


class Procedure(db.Model):
    """An administrative procedure as the national database of administrative procedures
    (Cơ sở dữ liệu quốc gia về thủ tục hành chính) names it: its code (e.g. 1.004227), field
    (lĩnh vực) and name. Lists differ by province, so each row belongs to a province; a
    ticket's `procedure` holds the code."""

    __tablename__ = "procedure"

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(500))
    name_en: Mapped[str | None] = mapped_column(sa.String(500))
    field: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    province: Mapped[Agency] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("province_id", "code", name="uq_procedure_province_code"),
    )


class DossierCount(db.Model):
    """How many dossiers a desk handled in a span of days, as the integrator (or an import)
    reports it: the denominator of the desk's response rate for every report period that the
    desk's spans cover day for day (docs/integrity.md, "Response rates"). The spans of one desk
    never overlap; reporting the same span again replaces its number."""

    __tablename__ = "dossier_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(sa.ForeignKey("desk.id"))
    start: Mapped[date] = mapped_column()  # local days, both included
    end: Mapped[date] = mapped_column()
    handled: Mapped[int] = mapped_column()
    source: Mapped[str] = mapped_column(sa.String(60))  # "api:<key prefix>" or "import"
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    desk: Mapped[Desk] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("desk_id", "start", "end", name="uq_dossier_count_desk_span"),
        sa.CheckConstraint("handled >= 0", name="handled_not_negative"),
        sa.CheckConstraint('"end" >= start', name="span_order"),
    )


class TreeMove(db.Model):
    """A sub-agency or a desk that a merger moved to another agency, on the merger's local
    date: until then it was under `from_agency`. Reports of periods before the move build the
    tree as it was (`survey.reporting.mergers.tree_at`), so that they read the same after it."""

    __tablename__ = "tree_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    moved_on: Mapped[date] = mapped_column()  # in effect from 0:00 Vietnam time
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("agency.id"), index=True)
    desk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("desk.id"), index=True)
    from_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    to_agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))

    __table_args__ = (
        sa.CheckConstraint(
            "(agency_id IS NULL) <> (desk_id IS NULL)", name="moves_an_agency_or_a_desk"
        ),
    )
