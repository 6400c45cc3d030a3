"""Admin-added languages and their packs (one per questionnaire version)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.extensions import db
from survey.models import Questionnaire, StrEnum, _enum, utcnow


class Direction(StrEnum):
    LTR = "ltr"
    RTL = "rtl"


class Language(db.Model):
    """A language beyond the compiled catalogues. `code` is what ?lang= and ratings carry."""

    __tablename__ = "language"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    # Its name in the language itself ("Tày", "Hmoob"), shown on the language buttons.
    name: Mapped[str] = mapped_column(sa.String(80))
    # Its name in Vietnamese ("Tiếng Tày"), for the staff pages and reports.
    name_vi: Mapped[str] = mapped_column(sa.String(80))
    direction: Mapped[Direction] = mapped_column(
        _enum(Direction, "language_direction"), default=Direction.LTR
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    packs: Mapped[list[LanguagePack]] = relationship(
        back_populates="language", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("code NOT IN ('vi', 'en')", name="not_a_compiled_locale"),)

    def __repr__(self) -> str:
        return f"<Language {self.code}>"


class LanguagePack(db.Model):
    """The texts of one language for one questionnaire version: {key: text}."""

    __tablename__ = "language_pack"

    language_id: Mapped[int] = mapped_column(
        sa.ForeignKey("language.id", ondelete="CASCADE"), primary_key=True
    )
    questionnaire_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire.id", ondelete="CASCADE"), primary_key=True
    )
    texts: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    language: Mapped[Language] = relationship(back_populates="packs")
    questionnaire: Mapped[Questionnaire] = relationship()


class SpokenPrompt(db.Model):
    """A recording of one text (`key`: question, level.<code>, criterion.<code>, thanks) in one
    language for one questionnaire version, played by the kiosk and the citizen page.

    The bytes live in the database, not on disk: every app instance behind a load balancer
    serves them, and a backup of the database holds them. At most 1 MB each (audio.MAX_BYTES).
    """

    __tablename__ = "spoken_prompt"

    id: Mapped[int] = mapped_column(primary_key=True)
    # vi, en, or an added language's code (vi prompts serve the faces-only mode).
    language: Mapped[str] = mapped_column(sa.String(16))
    questionnaire_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[str] = mapped_column(sa.String(8))  # audio.MIMETYPES: opus or mp3
    seconds: Mapped[float] = mapped_column(sa.Float)
    size: Mapped[int] = mapped_column(sa.Integer)
    # SHA-256 of the bytes: the URL and the ETag, so that a recording can be cached for good.
    digest: Mapped[str] = mapped_column(sa.String(64), index=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    questionnaire: Mapped[Questionnaire] = relationship()

    __table_args__ = (
        sa.UniqueConstraint(
            "language",
            "questionnaire_id",
            "key",
            name="uq_spoken_prompt_language_questionnaire_key",
        ),
        sa.CheckConstraint("kind IN ('opus', 'mp3')", name="known_kind"),
    )

    @property
    def extension(self) -> str:
        return "ogg" if self.kind == "opus" else "mp3"
