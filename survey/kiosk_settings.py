"""A kiosk's settings, kept in `Kiosk.settings` (JSON): how long the screen stays locked after a
rating, when partial answers are dropped, the opening hours, and which criteria to ask.

Stored values are checked by the admin form; reading is tolerant, so that a hand-edited or
older settings object never breaks a kiosk: anything unreadable falls back to its default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COOLDOWN_RANGE = (1, 600)
IDLE_RANGE = (3, 600)
MAX_CRITERIA = 2
# Vietnamese plus at most three others: a kiosk shows at most four language buttons.
MAX_LANGUAGES = 3
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
# One-stop desks usually work office hours on weekdays and Saturday morning.
DEFAULT_HOURS: dict[str, tuple[str, str] | None] = {
    **{day: ("07:00", "17:30") for day in WEEKDAYS[:5]},
    "sat": ("07:00", "11:30"),
    "sun": None,
}
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def minutes(clock: str) -> int:
    """'07:30' -> 450. '23:59' as a closing time means midnight, so a day can be open until 24:00."""
    hours, mins = int(clock[:2]), int(clock[3:])
    return 1440 if (hours, mins) == (23, 59) else hours * 60 + mins


def valid_span(span) -> bool:
    return (
        isinstance(span, list | tuple)
        and len(span) == 2
        and all(isinstance(c, str) and CLOCK.match(c) for c in span)
        and minutes(span[0]) < minutes(span[1])
    )


def _int_in(value, bounds: tuple[int, int], default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]:
        return value
    return default


@dataclass(frozen=True)
class KioskSettings:
    cooldown_seconds: int = 10
    idle_seconds: int = 30
    hours: dict[str, tuple[str, str] | None] = field(default_factory=lambda: dict(DEFAULT_HOURS))
    criteria: tuple[str, ...] = ()
    # Buttons besides Vietnamese: "en" and admin-added language codes (survey/languages).
    languages: tuple[str, ...] = ("en",)
    # For citizens who cannot read: no text, large drawn faces, a spoken prompt.
    faces_only: bool = False
    # Read the question out when someone approaches: the start screen asks for a touch, which
    # is the "approach" a tablet can see and the gesture browsers require before playing sound.
    speak_on_approach: bool = False

    @classmethod
    def from_json(cls, data) -> KioskSettings:
        data = data if isinstance(data, dict) else {}
        defaults = cls()
        hours = dict(DEFAULT_HOURS)
        stored_hours = data.get("hours")
        if isinstance(stored_hours, dict):
            for day in WEEKDAYS:
                if day in stored_hours:
                    span = stored_hours[day]
                    hours[day] = tuple(span) if valid_span(span) else None
        criteria = data.get("criteria")
        if not (
            isinstance(criteria, list)
            and len(criteria) <= MAX_CRITERIA
            and all(isinstance(c, str) for c in criteria)
        ):
            criteria = []
        languages = data.get("languages", list(defaults.languages))
        if not (
            isinstance(languages, list)
            and len(languages) <= MAX_LANGUAGES
            and all(isinstance(c, str) and LANGUAGE_CODE.match(c) and c != "vi" for c in languages)
        ):
            languages = list(defaults.languages)
        return cls(
            cooldown_seconds=_int_in(
                data.get("cooldown_seconds"), COOLDOWN_RANGE, defaults.cooldown_seconds
            ),
            idle_seconds=_int_in(data.get("idle_seconds"), IDLE_RANGE, defaults.idle_seconds),
            hours=hours,
            criteria=tuple(dict.fromkeys(criteria)),
            languages=tuple(dict.fromkeys(languages)),
            faces_only=data.get("faces_only") is True,
            speak_on_approach=data.get("speak_on_approach") is True,
        )

    def to_json(self) -> dict:
        return {
            "cooldown_seconds": self.cooldown_seconds,
            "idle_seconds": self.idle_seconds,
            "hours": {
                day: list(span) if span else None
                for day in WEEKDAYS
                for span in [self.hours.get(day)]
            },
            "criteria": list(self.criteria),
            "languages": list(self.languages),
            "faces_only": self.faces_only,
            "speak_on_approach": self.speak_on_approach,
        }

    def opening_minutes(self) -> list[list[int] | None]:
        """Monday..Sunday as [opens, closes) in minutes after local midnight, or None (closed)."""
        return [
            [minutes(span[0]), minutes(span[1])] if span else None
            for span in (self.hours.get(day) for day in WEEKDAYS)
        ]
