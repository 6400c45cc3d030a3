"""The agency table and the interval bars, prepared for the templates.

A province has about 2,000 agencies, and the table shows them all. Rendered through Jinja, a
row costs some 30 escaped expressions and attribute lookups: about half a second for the table
on a 2-core server. So the rows are written here, once per row with one `str.format`, from the
markup in `ROW` and `BAR`: names and codes are escaped, every other value is a number formatted
here or a translated label escaped once per page (see docs/reporting.md, "Benchmark").
"""

from __future__ import annotations

from urllib.parse import quote

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from survey import reporting
from survey.dashboard import formatting
from survey.reporting import ReportOptions, Row

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

# One row of the agency table; the header is in templates/dashboard/index.html.
ROW = (
    '<tr data-code="{code}" data-verdict="{verdict}" class="{css}">'
    '<th scope="row" class="agency-name"><a href="{href}">{name}</a>{inactive}</th>'
    '<td class="num valid">{valid}</td>'
    '<td class="num">{satisfied}</td>'
    '<td class="num rate">{rate}</td>'
    '<td class="interval">{bar} <span class="ci">{ci}</span></td>'
    '<td class="num">{target}</td>'
    '<td class="verdict">{verdict_badge}{small}</td>'
    '<td class="num">{needed}</td>'
    '<td class="change">{change} {change_badge}</td>'
    '<td class="num">{flagged} / {excluded}</td>'
    "</tr>\n"
)


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


def table_rows(rows: list[Row], options: ReportOptions) -> Markup:
    """The `<tr>` elements of the agency table, in the order of `rows`."""
    query = options.query(
        agency=None, verdict=None, kind=None, level=None, sort="tree", descending=False
    )
    marker = "__code__"
    link = str(escape(url_for("dashboard.agency", code=marker, **query)))
    numbers = formatting.numbers()
    percent, integer, points = numbers.percent, numbers.integer, numbers.points
    bars = _Bars(numbers)
    badge = '<span class="badge badge-{0}">{1}</span>'
    verdicts = {k: badge.format(k, escape(v)) for k, v in reporting.VERDICT_LABELS.items()}
    changes = {k: badge.format(k, escape(v)) for k, v in reporting.CHANGE_LABELS.items()}
    small = ' <span class="small-sample" title="{}">{}</span>'.format(
        escape(
            _("Fewer than %(n)d valid responses: the interval is wide.", n=reporting.SMALL_SAMPLE)
        ),
        escape(_("small sample")),
    )
    inactive = f' <span class="muted">({escape(_("no longer active"))})</span>'
    unreachable = '<span title="{}">∞</span>'.format(
        escape(
            _("The rate equals the target: no number of responses at this rate would settle it.")
        )
    )
    unit = str(escape(_("pts")))
    out = []
    for r in rows:
        if r.responses_needed is None:
            needed = "–"
        else:
            needed = unreachable if r.responses_needed < 0 else integer(r.responses_needed)
        code = str(escape(r.code))
        out.append(
            ROW.format(
                code=code,
                verdict=r.verdict,
                css=f"depth-{min(r.depth, 6)}" + ("" if r.active else " inactive"),
                href=link.replace(marker, quote(r.code, safe="")),
                name=escape(r.name),
                inactive="" if r.active else inactive,
                valid=integer(r.valid),
                satisfied=integer(r.satisfied),
                rate=percent(r.rate),
                bar=bars(r.rate, r.low, r.high, r.target, r.verdict),
                ci=f"{percent(r.low)}–{percent(r.high)}" if r.low is not None else "–",
                target=percent(r.target),
                verdict_badge=verdicts[r.verdict],
                small=small if r.small_sample else "",
                needed=needed,
                change=f"{points(r.change)} {unit}" if r.change is not None else "",
                change_badge=changes[r.change_verdict],
                flagged=integer(r.flagged),
                excluded=integer(r.excluded),
            )
        )
    return Markup("".join(out))
