"""The agency table and the interval bars, as HTML for the templates.

A province has about 2,000 agencies, and the table shows them all. Rendered through Jinja, a
row costs some 30 escaped expressions and attribute lookups: about half a second for the table
on a 2-core server. So the rows are written here in Python: each column of `TABLE_COLUMNS`
writes its cell from a number formatted here or a translated label escaped once per page
(`_Page`); names and codes are escaped (see docs/reporting.md, "Benchmark"). The template
prints the header from the same columns, so a new column is one entry in `TABLE_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from survey.reporting import formatting, labels
from survey.reporting.official import ADMINISTRATIVE_LABELS, CLASS_LABELS, verdict_note
from survey.reporting.options import ReportOptions
from survey.reporting.table import Row, response_warning

# The interval on a 0-100 scale as a band, the rate as a dot, the target as a line. SVG
# attributes and classes only: the Content-Security-Policy forbids inline styles. The size
# (120 × 18 px) is in dashboard.css.
BAR = (
    '<svg class="bar" viewBox="0 0 100 12" role="img" aria-label="{label}">'
    '<rect class="bar-track" y="4" width="100" height="4"/>'
    '<rect class="bar-ci bar-{verdict}" x="{x:.2f}" y="2" width="{width:.2f}" height="8"/>'
    "{target}"
    '<circle class="bar-rate" cx="{rate:.2f}" cy="6" r="2"/></svg>'
)
TARGET_LINE = '<line class="bar-target" x1="{x:.2f}" x2="{x:.2f}" y2="12"/>'


class _Bars:
    """Draws interval bars with one page's number format and translated label."""

    def __init__(self, numbers: formatting.Numbers):
        self.percent = numbers.percent
        self.label = str(escape(_("Rate %(rate)s, interval %(low)s to %(high)s")))
        self.target_label = str(escape(_("target %(target)s")))

    def __call__(self, rate, low, high, target, verdict) -> str:
        if low is None or rate is None:
            return ""
        percent = self.percent
        label = self.label % {"rate": percent(rate), "low": percent(low), "high": percent(high)}
        line = ""
        if target is not None:
            label += ", " + self.target_label % {"target": percent(target)}
            line = TARGET_LINE.format(x=target * 100)
        return BAR.format(
            label=label,
            verdict=verdict,
            x=low * 100,
            width=max((high - low) * 100, 0.6),
            target=line,
            rate=rate * 100,
        )


def bar(rate, low, high, target, verdict) -> Markup:
    """The interval bar of one rate (agency pages, public results); empty without a rate."""
    return Markup(_Bars(formatting.numbers())(rate, low, high, target, verdict))


class _Page:
    """What every row of one page shares: number formats, and translated labels escaped
    once."""

    def __init__(self):
        numbers = formatting.numbers()
        self.percent, self.integer, self.points = numbers.percent, numbers.integer, numbers.points
        self.bars = _Bars(numbers)
        badge = '<span class="badge badge-{0}">{1}</span>'
        self.verdicts = {k: badge.format(k, escape(v)) for k, v in labels.VERDICT_LABELS.items()}
        self.changes = {k: badge.format(k, escape(v)) for k, v in labels.CHANGE_LABELS.items()}
        self.small = ' <span class="small-sample" title="{}">{}</span>'.format(
            escape(
                _(
                    "Fewer than %(n)d valid responses: the interval is wide.",
                    n=labels.SMALL_SAMPLE,
                )
            ),
            escape(_("small sample")),
        )
        self.unreachable = '<span title="{}">∞</span>'.format(
            escape(
                _(
                    "The rate equals the target: no number of responses at this rate would "
                    "settle it."
                )
            )
        )
        self.unit = str(escape(_("pts")))

        self.low_response = '<span class="low-response" title="{}">{}</span>'.format(
            escape(
                _(
                    "Fewer than %(threshold)s of the citizens served answered: the rates may not "
                    "represent them.",
                    threshold=numbers.percent(response_warning(), 0),
                )
            ),
            escape(_("low response")),
        )
        self.no_denominator = '<span class="no-denominator">{}</span>'.format(
            escape(_("%(n)s without a denominator"))
        )
        self.number = numbers.number
        self.classes = {k: str(escape(v)) for k, v in CLASS_LABELS.items()}
        self.admin_labels = {
            k: f'<span class="admin admin-{k}">{escape(v)}</span>'
            for k, v in ADMINISTRATIVE_LABELS.items()
        }
        self.score_title = str(escape(_("interval %(low)s to %(high)s, out of %(max)s")))
        self.pooled = ' <span class="pooled-mark" title="{}">{}</span>'.format(
            escape(
                _(
                    "Pools the units under it; judged with the other pooled rows, apart from "
                    "the reporting units."
                )
            ),
            escape(_("pooled")),
        )

    @staticmethod
    def combined(row) -> str:
        """The label of a comparison over a combined history (survey.reporting.mergers)."""
        codes = ", ".join(row.history_agencies)
        return ' <span class="combined-history">{}</span>'.format(
            escape(_("combined history, with %(codes)s", codes=codes))
        )

    def admin(self, r: Row) -> str:
        code = r.administrative_verdict
        if code is None:
            return "–"
        note = verdict_note(r)
        text = self.admin_labels[code]
        if note:
            # The note is visible text (not only a tooltip), for screen readers and touch.
            return f'{text} <span class="verdict-note">{escape(note)}</span>'
        return text

    def levels(self, r: Row) -> str:
        if not r.valid:
            return "–"
        return " / ".join(self.integer(n) for n in r.levels.values())

    def score(self, r: Row) -> str:
        points = r.points
        if points is None or points.total is None:
            return "–"
        title = self.score_title % {
            "low": self.number(points.low, 2),
            "high": self.number(points.high, 2),
            "max": self.number(points.maximum, None),
        }
        return (
            f'<span title="{title}">{self.number(points.total, 1)}</span> '
            f'<span class="points-class points-{points.cls}">{self.classes[points.cls]}</span>'
        )

    def uptake(self, r: Row) -> str:
        """The response rate with its numerator and denominator, a warning under the
        threshold, and the ratings that have no denominator."""
        out = []
        if r.response_rate is not None:
            out.append(
                f"{self.percent(r.response_rate)} ({self.integer(r.response_answered)}/"
                f"{self.integer(r.response_base)})"
            )
            if r.low_response_rate:
                out.append(self.low_response)
        if r.no_denominator:
            out.append(self.no_denominator % {"n": self.integer(r.no_denominator)})
        return " ".join(out) or "–"

    def needed(self, r: Row) -> str:
        if r.responses_needed is None:
            return "–"
        return self.unreachable if r.responses_needed < 0 else self.integer(r.responses_needed)


@dataclass(frozen=True)
class HtmlColumn:
    """A column of the agency table after the agency's name: its header, the sort key its
    header links to (if any), the cell's CSS class and how the cell is written."""

    header: object
    css: str
    cell: Callable[[Row, _Page], str]
    sort: str | None = None


# What an analyst reads first comes first: on a 1440 px screen the columns up to the responses
# needed are in view beside the sticky agency name; the official outputs follow.
TABLE_COLUMNS: tuple[HtmlColumn, ...] = (
    HtmlColumn(_l("Valid"), "num valid", lambda r, p: p.integer(r.valid), sort="valid"),
    HtmlColumn(_l("Satisfied"), "num", lambda r, p: p.integer(r.satisfied)),
    HtmlColumn(_l("Rate"), "num rate", lambda r, p: p.percent(r.rate), sort="rate"),
    HtmlColumn(
        _l("Interval"),
        "interval",
        lambda r, p: p.bars(r.rate, r.low, r.high, r.target, r.verdict)
        + ' <span class="ci">'
        + (f"{p.percent(r.low)}–{p.percent(r.high)}" if r.low is not None else "–")
        + "</span>",
        sort="low",
    ),
    HtmlColumn(_l("Response rate"), "num uptake", lambda r, p: p.uptake(r)),
    HtmlColumn(_l("Target"), "num", lambda r, p: p.percent(r.target)),
    HtmlColumn(
        _l("Verdict"),
        "verdict",
        lambda r, p: p.verdicts[r.verdict]
        + (p.small if r.small_sample else "")
        + (p.pooled if r.family == "pooled" else ""),
    ),
    HtmlColumn(
        _l("Change"),
        "change",
        lambda r, p: (f"{p.points(r.change)} {p.unit}" if r.change is not None else "")
        + " "
        + p.changes[r.change_verdict]
        + (p.combined(r) if r.history == "combined" else ""),
        sort="change",
    ),
    HtmlColumn(
        _l("Flagged / excluded"),
        "num flagged",
        lambda r, p: f"{p.integer(r.flagged)} / {p.integer(r.excluded)}",
    ),
    HtmlColumn(_l("Responses needed"), "num", lambda r, p: p.needed(r), sort="needed"),
    HtmlColumn(
        _l("Cases answered on time"),
        "num cases",
        lambda r, p: (
            f"{p.percent(r.cases_on_time_share)} ({p.integer(r.cases_on_time)}/"
            f"{p.integer(r.cases_due)})"
            if r.cases_due
            else "–"
        ),
    ),
    # Official outputs (survey.reporting.official): valid responses by level, best first (the
    # levels are named under the table), and the indicator score with its class.
    HtmlColumn(_l("Administrative verdict"), "admin-verdict", lambda r, p: p.admin(r)),
    HtmlColumn(_l("By level, best first"), "num levels", lambda r, p: p.levels(r)),
    HtmlColumn(_l("Indicator score"), "num points", lambda r, p: p.score(r)),
)

_ROW_START = (
    '<tr data-code="{code}" data-verdict="{verdict}" data-family="{family}"'
    ' data-counted="{counted}" class="{css}">'
    '<th scope="row" class="agency-name"><a href="{href}">{name}</a>{inactive}</th>'
)


def table_rows(rows: list[Row], options: ReportOptions) -> Markup:
    """The `<tr>` elements of the agency table, in the order of `rows`."""
    query = options.query(
        agency=None, verdict=None, kind=None, level=None, sort="tree", descending=False
    )
    marker = "__code__"
    link = str(escape(url_for("dashboard.agency", code=marker, **query)))
    page = _Page()
    inactive = f' <span class="muted">({escape(_("no longer active"))})</span>'
    cells = [(f'<td class="{c.css}">', c.cell) for c in TABLE_COLUMNS]
    out = []
    for r in rows:
        out.append(
            _ROW_START.format(
                code=escape(r.code),
                verdict=r.verdict,
                family=r.family,
                counted="1" if r.counted else "0",
                css=f"depth-{min(r.depth, 6)}" + ("" if r.active else " inactive"),
                href=link.replace(marker, quote(r.code, safe="")),
                name=escape(r.name),
                inactive="" if r.active else inactive,
            )
        )
        for start, cell in cells:
            out.append(start + cell(r, page) + "</td>")
        out.append("</tr>\n")
    return Markup("".join(out))
