"""The columns of a report's agency table, declared once.

The CSV, Excel and JSON renderers iterate `COLUMNS`, so a new per-row value is a field of
`survey.reporting.table.Row` plus one `Column` here. `kind` says how a value is written:
`text`, `int`, `percent` (a fraction, formatted as a percentage in Excel), `number`, `bool`
(yes/no in files, true/false in JSON), `list` (of codes: comma-separated in files), or `label` (a code, written as its translated label in
files and as the code in JSON; `labels` maps codes to labels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from survey.reporting import labels, official


@dataclass(frozen=True)
class Column:
    key: str
    header: object  # a lazy translated string
    kind: str = "text"
    labels: Mapping | None = None
    in_files: bool = True  # CSV and Excel; JSON has every column
    get: Callable | None = None  # reads the value from the row, instead of the `key` attribute

    def value(self, row) -> object:
        return self.get(row) if self.get is not None else getattr(row, self.key)

    def cell(self, row) -> object:
        """The value as data for CSV and Excel: numbers stay numbers, codes become words."""
        value = self.value(row)
        if value is None:
            return None
        if self.kind == "label":
            return str(self.labels.get(value, value))
        if self.kind == "list":
            return ", ".join(value) or None
        if self.kind == "bool":
            return _("yes") if value else _("no")
        if isinstance(value, float):
            return round(value, 6)
        return value


COLUMNS: tuple[Column, ...] = (
    Column("code", _l("Code")),
    Column("name", _l("Agency")),
    Column("name_en", _l("Name in English"), in_files=False),
    Column("parent_code", _l("Parent code")),
    Column("depth", _l("Depth"), "int", in_files=False),
    Column("level", _l("Level"), "label", labels.LEVEL_LABELS),
    Column("kind", _l("Kind"), "label", labels.KIND_LABELS),
    Column("has_children", _l("Has units under it"), "bool", in_files=False),
    Column("family", _l("Test family"), "label", labels.FAMILY_LABELS),
    Column("valid", _l("Valid responses"), "int"),
    Column("satisfied", _l("Satisfied"), "int"),
    Column("own_valid", _l("Own desks: valid"), "int", in_files=False),
    Column("own_satisfied", _l("Own desks: satisfied"), "int", in_files=False),
    Column("rate", _l("Rate"), "percent"),
    Column("low", _l("Interval low"), "percent"),
    Column("high", _l("Interval high"), "percent"),
    Column("estimate_low", _l("Estimation interval low"), "percent"),
    Column("estimate_high", _l("Estimation interval high"), "percent"),
    Column("deff", _l("Design effect"), "number"),
    Column("rho", _l("Intra-class correlation"), "number", in_files=False),
    Column("desk_days", _l("Desk-days"), "int"),
    Column("target", _l("Target"), "percent"),
    Column("target_note", _l("Target note"), in_files=False),
    Column("verdict", _l("Verdict"), "label", labels.VERDICT_LABELS),
    Column("p_meets", _l("p-value (meets)"), "number"),
    Column("p_below", _l("p-value (below)"), "number"),
    Column("responses_needed", _l("Responses needed"), "int"),
    Column("small_sample", _l("Small sample"), "bool"),
    # Response rates (docs/integrity.md): how many of the citizens served answered.
    Column("tickets_issued", _l("Tickets issued"), "int"),
    Column("tickets_used", _l("Tickets used"), "int"),
    Column("dossiers_handled", _l("Dossiers handled (reported)"), "int"),
    Column("response_answered", _l("Response rate: answered"), "int"),
    Column("response_base", _l("Response rate: out of"), "int"),
    Column("response_rate", _l("Response rate"), "percent"),
    Column("low_response_rate", _l("Response rate below the warning level"), "bool"),
    Column("no_denominator", _l("Ratings without a denominator (QR code, kiosk, paper)"), "int"),
    Column("previous_valid", _l("Previous period: valid"), "int"),
    Column("previous_satisfied", _l("Previous period: satisfied"), "int", in_files=False),
    Column("previous_rate", _l("Previous period: rate"), "percent"),
    Column("previous_deff", _l("Previous period: design effect"), "number"),
    Column("change", _l("Change"), "percent"),
    Column("change_low", _l("Change interval low"), "percent"),
    Column("change_high", _l("Change interval high"), "percent"),
    Column("change_verdict", _l("Change verdict"), "label", labels.CHANGE_LABELS),
    # Continuity across mergers: which history the comparison is over (docs/reporting.md).
    Column("history", _l("Comparison history"), "label", labels.HISTORY_LABELS),
    Column("history_agencies", _l("Comparison includes merged agencies"), "list"),
    Column("history_valid", _l("Combined history: valid"), "int", in_files=False),
    Column("history_satisfied", _l("Combined history: satisfied"), "int", in_files=False),
    Column("flagged", _l("Flagged"), "int"),
    Column("excluded", _l("Excluded"), "int"),
    Column("active", _l("Active"), "bool"),
    # Criterion 8: the cases opened in the period (docs/cases.md).
    Column("cases", _l("Cases opened"), "int"),
    Column("cases_answered", _l("Cases answered"), "int", in_files=False),
    Column("cases_due", _l("Cases due"), "int", in_files=False),
    Column("cases_on_time", _l("Cases answered on time"), "int", in_files=False),
    Column("cases_answered_share", _l("Share of cases answered"), "percent"),
    Column("cases_on_time_share", _l("Share of due cases answered on time"), "percent"),
    Column("cases_median_days", _l("Median days to answer"), "number"),
    # Official outputs: "Đạt / Không đạt" on the rate, beside the statistical verdict, and one
    # sentence when the two disagree (survey.reporting.official).
    Column(
        "administrative_verdict",
        _l("Administrative verdict (rate against target)"),
        "label",
        official.ADMINISTRATIVE_LABELS,
    ),
    Column("verdict_note", _l("Why the verdicts differ"), get=official.verdict_note),
)


def file_columns(scale=None) -> list[Column]:
    """The columns of the CSV and Excel files, in order; with the report's `scale`
    (`survey.reporting.official.Scale`), its official columns after them."""
    return [c for c in COLUMNS if c.in_files] + (official_columns(scale) if scale else [])


def _level_count(code: str):
    return lambda row: row.levels.get(code, 0)


def _level_share(code: str):
    def share(row):
        total = sum(row.levels.values())
        return row.levels.get(code, 0) / total if total else None

    return share


def _points(name: str):
    return lambda row: getattr(row.points, name) if row.points is not None else None


def _indicator(code: str):
    return lambda row: row.points.indicators.get(code) if row.points is not None else None


def _max(value: float) -> str:
    return format(value, "g")


def official_columns(scale) -> list[Column]:
    """The counts and shares by rating level, then the indicator score (total, interval,
    class and each indicator's mean points) of a report's `scale`."""
    found: list[Column] = []
    for code, label in scale.levels:
        found.append(
            Column(
                f"level_{code}",
                _("%(level)s: responses", level=label),
                "int",
                get=_level_count(code),
            )
        )
        found.append(
            Column(
                f"level_{code}_share",
                _("%(level)s: share", level=label),
                "percent",
                get=_level_share(code),
            )
        )
    if scale.indicators:
        found += [
            Column(
                "points_total",
                _l("Indicator score (of %(max)s)", max=_max(scale.maximum)),
                "number",
                get=_points("total"),
            ),
            Column("points_low", _l("Score interval low"), "number", get=_points("low")),
            Column("points_high", _l("Score interval high"), "number", get=_points("high")),
            Column(
                "points_class",
                _l("Score class"),
                "label",
                official.CLASS_LABELS,
                get=_points("cls"),
            ),
        ]
        for code, label in scale.indicators:
            found.append(
                Column(
                    f"points_{code}",
                    _("Points: %(indicator)s", indicator=label),
                    "number",
                    get=_indicator(code),
                )
            )
    return found


def json_row(row) -> dict:
    """A row as JSON data: every column, codes as codes, then the official objects: `levels`
    (valid responses by level code), `level_shares` and `points` (the indicator score)."""
    data = {c.key: c.value(row) for c in COLUMNS}
    data["levels"] = dict(row.levels)
    data["level_shares"] = {k: _rounded(v) for k, v in official.shares(row.levels).items()}
    data["points"] = row.points.as_json() if row.points is not None else None
    return data


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
