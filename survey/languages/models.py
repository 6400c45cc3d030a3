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
