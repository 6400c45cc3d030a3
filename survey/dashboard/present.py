"""The agency table, prepared for the template: every translated word and formatted number is
computed here once per row, so that rendering 2,000 rows stays fast (see docs/reporting.md)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import url_for
from flask_babel import gettext as _

from survey import reporting
from survey.dashboard import formatting
from survey.reporting import ReportOptions, Row


@dataclass(frozen=True)
class Bar:
    """An interval bar on a 0-100 scale: SVG attributes, no inline style."""

    x: str
    width: str
    rate: str
    target: str | None
    verdict: str
    label: str


@dataclass(frozen=True)
class TableRow:
    code: str
    href: str
    name: str
    css: str
    active: bool
    verdict: str
    verdict_label: str
    small: bool
    valid: str
    satisfied: str
    rate: str
    ci: str
    bar: Bar | None
    target: str
    needed: str
    needed_unreachable: bool
    change: str
    change_verdict: str
    change_label: str
    flagged_excluded: str


def bar(rate, low, high, target, verdict, template: str | None = None) -> Bar | None:
    if low is None or rate is None:
        return None
    template = template or _("Rate %(rate)s, interval %(low)s to %(high)s")
    label = template % {
        "rate": formatting.percent(rate),
        "low": formatting.percent(low),
        "high": formatting.percent(high),
    }
    if target is not None:
        label += ", " + _("target %(target)s", target=formatting.percent(target))
    return Bar(
        x=f"{low * 100:.2f}",
        width=f"{max((high - low) * 100, 0.6):.2f}",
        rate=f"{rate * 100:.2f}",
        target=f"{target * 100:.2f}" if target is not None else None,
        verdict=verdict,
        label=label,
    )


def table_rows(rows: list[Row], options: ReportOptions) -> list[TableRow]:
    query = options.query(
        agency=None, verdict=None, kind=None, level=None, sort="tree", descending=False
    )
    marker = "__code__"
    link = url_for("dashboard.agency", code=marker, **query)
    verdicts = {k: str(v) for k, v in reporting.VERDICT_LABELS.items()}
    changes = {k: str(v) for k, v in reporting.CHANGE_LABELS.items()}
    template = _("Rate %(rate)s, interval %(low)s to %(high)s")
    points = _("pts")
    percent, integer = formatting.percent, formatting.integer
    out = []
    for r in rows:
        needed = "–"
        if r.responses_needed is not None:
            needed = "∞" if r.responses_needed < 0 else integer(r.responses_needed)
        out.append(
            TableRow(
                code=r.code,
                href=link.replace(marker, quote(r.code, safe="")),
                name=r.name,
                css=f"depth-{min(r.depth, 6)}" + ("" if r.active else " inactive"),
                active=r.active,
                verdict=r.verdict,
                verdict_label=verdicts[r.verdict],
                small=r.small_sample,
                valid=integer(r.valid),
                satisfied=integer(r.satisfied),
                rate=percent(r.rate),
                ci=f"{percent(r.low)}–{percent(r.high)}" if r.low is not None else "–",
                bar=bar(r.rate, r.low, r.high, r.target, r.verdict, template),
                target=percent(r.target),
                needed=needed,
                needed_unreachable=r.responses_needed is not None and r.responses_needed < 0,
                change=f"{formatting.points(r.change)} {points}" if r.change is not None else "",
                change_verdict=r.change_verdict,
                change_label=changes[r.change_verdict],
                flagged_excluded=f"{r.flagged} / {r.excluded}",
            )
        )
    return out
