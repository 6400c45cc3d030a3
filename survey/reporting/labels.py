"""The codes a report uses (verdicts, methods, levels, ...) and their translated labels.

Codes are what the data carries (JSON, query strings); labels are what people read. Templates
get this module as `labels`.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import analysis
from survey.models import Channel, Kind, Level, Status

CONFIDENCES = (90, 95, 99)
METHODS = analysis.METHODS
ADJUSTMENTS = ("none", "holm", "fdr_bh")
# Design effects of desk-day clusters (docs/statistics.md, "Clustered ratings").
DESIGN_EFFECTS = ("estimated", "none")
VERDICTS = analysis.VERDICTS
SORT_KEYS = ("tree", "name", "rate", "low", "valid", "change", "needed")
# Fewer valid responses than this: the row is marked "small sample" (its interval is wide).
SMALL_SAMPLE = 30

METHOD_LABELS = {
    "wilson": _l("Wilson score (recommended)"),
    "wilson_cc": _l("Wilson with continuity correction"),
    "jeffreys": _l("Jeffreys"),
    "clopper_pearson": _l("Clopper–Pearson (exact)"),
    "agresti_coull": _l("Agresti–Coull"),
    "mid_p": _l("Mid-p"),
    "wald": _l("Wald (legacy, not recommended)"),
}
ADJUST_LABELS = {
    "none": _l("None"),
    "holm": _l("Holm (family-wise)"),
    "fdr_bh": _l("Benjamini–Hochberg (false discovery rate)"),
}
DEFF_LABELS = {
    "estimated": _l("Estimated from desk-days (recommended)"),
    "none": _l("None: every rating independent"),
}
VERDICT_LABELS = {
    "meets": _l("Meets the target"),
    "below": _l("Below the target"),
    "inconclusive": _l("Not enough evidence yet"),
    "no_data": _l("No responses"),
    "no_target": _l("No target set"),
}
FAMILY_LABELS = {
    "unit": _l("Reporting unit (own desks)"),
    "pooled": _l("Pooled (units under it)"),
}
SUMMARY_BASIS_LABELS = {
    "row": _l("The summary is the row of the report's agency."),
    "total": _l(
        "The summary pools the top agencies of the report and judges the total on its own "
        "against the general target."
    ),
}
CALENDAR_LABELS = {
    "calendar": _l("Calendar periods"),
    "regime": _l("Reporting regime (15th to 14th)"),
}
# The history a comparison with the previous period is over (survey.reporting.mergers).
HISTORY_LABELS = {
    "own": _l("This agency's own responses"),
    "combined": _l("Combined with the agencies merged into it"),
}
# The dashboard's choice of history for the comparisons.
HISTORY_CHOICES = {
    "own": _l("Each agency's own responses"),
    "combined": _l("Add the history of agencies merged into it"),
}
CHANGE_LABELS = {
    "improved": _l("Improved"),
    "declined": _l("Declined"),
    "no_clear_change": _l("No clear change"),
    "no_data": _l("No comparison"),
}
LEVEL_LABELS = {
    Level.PROVINCE: _l("Province"),
    Level.DEPARTMENT: _l("Department"),
    Level.DISTRICT: _l("District"),
    Level.COMMUNE: _l("Commune"),
    Level.SERVICE_UNIT: _l("Public service unit"),
}
KIND_LABELS = {
    Kind.ADMINISTRATIVE: _l("Administrative"),
    Kind.HEALTH: _l("Health"),
    Kind.EDUCATION: _l("Education"),
    Kind.OTHER: _l("Other"),
}
CHANNEL_LABELS = {
    Channel.QR: _l("QR code"),
    Channel.KIOSK: _l("Kiosk"),
    Channel.PAPER: _l("Paper form"),
    Channel.API: _l("Portal (API)"),
    Channel.FOLLOWUP: _l("Follow-up call"),
}
STATUS_LABELS = {
    Status.VALID: _l("Valid"),
    Status.FLAGGED: _l("Flagged"),
    Status.EXCLUDED: _l("Excluded"),
}
WEEKDAY_LABELS = (
    _l("Mon"),
    _l("Tue"),
    _l("Wed"),
    _l("Thu"),
    _l("Fri"),
    _l("Sat"),
    _l("Sun"),
)


def adjustment_note(adjust: str, families: dict[str, int]) -> str | None:
    """What a multiplicity adjustment was applied to, in words (None without one)."""
    if adjust == "none":
        return None
    return _(
        "Verdicts adjusted (%(method)s) within two families that do not depend on the view: "
        "the %(units)d reporting units of the whole province, and apart from them the "
        "%(pooled)d rows that pool units. Changes from the previous period are adjusted the "
        "same way.",
        method=ADJUST_LABELS[adjust],
        units=families.get("unit", 0),
        pooled=families.get("pooled", 0),
    )


def open_period_note(period, today) -> str | None:
    """For a period that has not ended (it holds `today`): says so, with the dates its data
    cover, so that nobody compares a part of a quarter with a whole one without knowing."""
    covered = period.covered(today)
    if covered is None:
        return None
    from survey.reporting.formatting import day

    return _(
        "Period not ended: the data run from %(first)s to %(last)s, %(days)d of its %(total)d "
        "days. The comparison with the previous period, a full one, is not like for like.",
        first=day(covered.start),
        last=day(covered.end),
        days=covered.days,
        total=period.days,
    )
