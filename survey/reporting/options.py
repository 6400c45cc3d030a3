"""What a report shows: `ReportOptions`, read from a query string by `parse_options`, the one
parser of report options for the dashboard, the exports, the CLI, the API and the public page."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from flask import current_app, has_app_context
from flask_babel import gettext as _

from survey.models import Kind, Level
from survey.periods import CALENDARS, Period, PeriodError, parse_period
from survey.reporting.labels import (
    ADJUSTMENTS,
    CONFIDENCES,
    DESIGN_EFFECTS,
    METHODS,
    SORT_KEYS,
    VERDICTS,
)
from survey.reporting.mergers import HISTORIES

# A what-if target is a percentage, used to 4 decimals: from 0.0001 to 99.9999, the bounds the
# OpenAPI document gives, so that no accepted value rounds to 0 or 100.
TARGET_DECIMALS = 4
TARGET_MIN, TARGET_MAX = 0.0001, 99.9999


class OptionError(ValueError):
    """A report option that cannot be used; `field` names it, the message is translated."""

    def __init__(self, field: str, message: str, status: int = 400):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class ReportOptions:
    """What a report shows. Every field round-trips through the query string (`query()`)."""

    period: Period
    confidence: int = 95
    method: str = "wilson"
    adjust: str = "none"
    # "estimated": verdicts and their intervals on n / deff, deff from desk-day clusters.
    deff: str = "estimated"
    target: float | None = None  # what-if override, else the Target table
    agency: str | None = None  # code of the subtree's root, else the whole visible tree
    sort: str = "tree"
    descending: bool = False
    verdict: str | None = None
    kind: str | None = None
    level: str | None = None
    # Calendar periods or those of the reporting regime (Decree 09/2019/NĐ-CP); `period` is
    # already in this calendar. The installation's default is REPORT_CALENDAR.
    calendar: str = "calendar"
    # "combined": the comparison with the previous period of an agency that others were merged
    # into adds their history (survey.reporting.mergers), labelled on its row.
    history: str = "own"

    @property
    def level_of_confidence(self) -> float:
        return self.confidence / 100

    def query(self, **changes) -> dict[str, str]:
        """Query-string arguments for these options (defaults left out), with `changes`."""
        options = replace(self, **changes) if changes else self
        args = {"period": options.period.key}
        defaults = ReportOptions(period=options.period)
        for name in (
            "confidence",
            "method",
            "adjust",
            "deff",
            "agency",
            "verdict",
            "kind",
            "level",
            "history",
        ):
            value = getattr(options, name)
            if value != getattr(defaults, name) and value is not None:
                args[name] = str(value)
        if options.target is not None:
            args["target"] = format_percent_input(options.target)
        if options.sort != "tree" or options.descending:
            args["sort"] = ("-" if options.descending else "") + options.sort
        if options.calendar != default_calendar():
            args["calendar"] = options.calendar
        return args


def default_calendar() -> str:
    """The installation's calendar (REPORT_CALENDAR): "calendar" or "regime"."""
    if not has_app_context():
        return "calendar"
    return current_app.config.get("REPORT_CALENDAR", "calendar")


def format_percent_input(rate: float) -> str:
    return f"{rate * 100:.10g}"


def parse_options(args: Mapping[str, str], default_period: Period) -> ReportOptions:
    """Read report options from a query string; raise `OptionError` for anything wrong."""

    def get(name: str) -> str | None:
        value = args.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    raw_period = get("period")
    try:
        period = parse_period(raw_period) if raw_period else default_period
    except PeriodError as error:
        raise OptionError("period", str(error)) from None
    calendar = get("calendar") or default_calendar()
    if calendar not in CALENDARS:
        raise OptionError(
            "calendar",
            _(
                "Unknown calendar. Allowed: %(values)s (calendar periods, or those of the "
                "reporting regime: from the 15th of the month before to the 14th).",
                values=", ".join(CALENDARS),
            ),
        )
    period = period.in_calendar(calendar)

    confidence = 95
    if (raw := get("confidence")) is not None:
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            raise OptionError(
                "confidence", _("The confidence level must be a number: 90, 95 or 99.")
            ) from None
        if number not in CONFIDENCES:
            raise OptionError("confidence", _("The confidence level must be 90, 95 or 99 (%)."))
        confidence = int(number)

    method = get("method") or "wilson"
    if method not in METHODS:
        raise OptionError(
            "method",
            _("Unknown interval method. Allowed: %(methods)s.", methods=", ".join(METHODS)),
        )
    adjust = get("adjust") or "none"
    if adjust not in ADJUSTMENTS:
        raise OptionError(
            "adjust",
            _("Unknown adjustment. Allowed: %(values)s.", values=", ".join(ADJUSTMENTS)),
        )

    deff = get("deff") or "estimated"
    if deff not in DESIGN_EFFECTS:
        raise OptionError(
            "deff",
            _("Unknown design effect. Allowed: %(values)s.", values=", ".join(DESIGN_EFFECTS)),
        )

    target = None
    if (raw := get("target")) is not None:
        try:
            percent = float(raw.rstrip("%").replace(",", "."))
        except ValueError:
            raise OptionError(
                "target", _("The target must be a percentage, for example 90.")
            ) from None
        # The bounds of the OpenAPI document (survey/api/report.py), checked on the number as
        # sent; inside them, rounding to TARGET_DECIMALS can never give 0 or 100.
        if not (math.isfinite(percent) and TARGET_MIN <= percent <= TARGET_MAX):
            raise OptionError(
                "target", _("The target must be a percentage strictly between 0 and 100.")
            )
        target = round(percent / 100, TARGET_DECIMALS + 2)

    sort, descending = get("sort") or "tree", False
    if sort.startswith("-"):
        sort, descending = sort[1:], True
    if sort not in SORT_KEYS:
        raise OptionError(
            "sort", _("Unknown sort order. Allowed: %(values)s.", values=", ".join(SORT_KEYS))
        )

    def choice(name: str, allowed: Iterable[str]) -> str | None:
        value = get(name)
        allowed = list(allowed)
        if value is not None and value not in allowed:
            raise OptionError(
                name,
                _(
                    "Unknown value for %(name)s. Allowed: %(values)s.",
                    name=name,
                    values=", ".join(allowed),
                ),
            )
        return value

    history = get("history") or "own"
    if history not in HISTORIES:
        raise OptionError(
            "history",
            _("Unknown history. Allowed: %(values)s.", values=", ".join(HISTORIES)),
        )

    agency = get("agency")
    if agency is not None and len(agency) > 40:
        raise OptionError("agency", _("There is no agency with this code."), status=404)
    return ReportOptions(
        period=period,
        confidence=confidence,
        method=method,
        adjust=adjust,
        deff=deff,
        target=target,
        agency=agency,
        sort=sort,
        descending=descending,
        verdict=choice("verdict", VERDICTS),
        kind=choice("kind", [k.value for k in Kind]),
        level=choice("level", [lv.value for lv in Level]),
        calendar=calendar,
        history=history,
    )
