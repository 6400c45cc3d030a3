"""Figures for the dashboard and the PDF: `analysis.plots` with translated labels, and the data
behind each figure as rows (served as CSV)."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
from flask_babel import gettext as _
from matplotlib.figure import Figure

import analysis
from analysis import plots
from survey.reporting import labels
from survey.reporting.table import Report, Row, interval

# A forest plot beyond this many agencies is unreadable; the lowest rates are kept.
MAX_FOREST = 60
FUNNEL_COVERAGES = (0.95, 0.998)


def verdict_labels() -> dict[str, str]:
    return {key: str(label) for key, label in labels.VERDICT_LABELS.items()}


def has_funnel(report: Report) -> bool:
    return bool(report.units()) and report.summary.target is not None


def has_forest(report: Report) -> bool:
    units, _total = forest_units(report)
    return bool(units) and all(u.target is not None for u in units)


def funnel_figure(report: Report) -> Figure | None:
    if not has_funnel(report):
        return None
    units = report.units()
    return plots.funnel_plot(
        [u.satisfied for u in units],
        [u.valid for u in units],
        report.summary.target,
        coverages=FUNNEL_COVERAGES,
        title=_(
            "Funnel plot of the reporting units (own desks; rows that pool units are left "
            "out), %(period)s",
            period=report.period.label(),
        ),
        xlabel=_("Valid responses (own desks only)"),
        ylabel=_("Satisfaction rate (own desks only)"),
        target_label=_("Target"),
        limit_label=_("Limits {coverage}"),
        point_label=_("Reporting units (own desks only)"),
        names=[u.name for u in units],
        parents=[u.has_children for u in units],
        parent_label=_("Agencies with units under them, own desks only (squares)"),
    )


def funnel_rows(report: Report) -> list[dict]:
    units = report.units()
    target = report.summary.target
    if not units or target is None:
        return []
    limits = analysis.funnel_limits([u.valid for u in units], target, FUNNEL_COVERAGES)
    rows = []
    for i, unit in enumerate(units):
        rate = unit.satisfied / unit.valid
        row = {
            "code": unit.code,
            "name": unit.name,
            "family": unit.family,
            "counts": "own desks only",
            "has_children": unit.has_children,
            "valid": unit.valid,
            "satisfied": unit.satisfied,
            "rate": round(rate, 6),
            "target": target,
        }
        for j, coverage in enumerate(limits.coverages):
            suffix = f"{coverage * 100:g}".replace(".", "_")
            row[f"lower_{suffix}"] = round(float(limits.lower[j][i]), 6)
            row[f"upper_{suffix}"] = round(float(limits.upper[j][i]), 6)
        outer_low, outer_high = limits.lower[-1][i], limits.upper[-1][i]
        row["position"] = (
            "above" if rate > outer_high else "below" if rate < outer_low else "within"
        )
        rows.append(row)
    return rows


def forest_units(report: Report) -> tuple[list[Row], int]:
    """The rows drawn in the forest plot (the view's filters apply), best rate first, and how
    many there were before the cap: the table's own rows, pooled ones included, with the
    table's numbers, intervals and verdicts."""
    units = report.filtered_rows([r for r in report.rows if r.valid > 0])
    total = len(units)
    units.sort(key=lambda u: u.satisfied / u.valid)
    units = units[:MAX_FOREST]
    units.reverse()
    return units, total


def forest_figure(report: Report) -> Figure | None:
    if not has_forest(report):
        return None
    units, total = forest_units(report)
    targets = [u.target for u in units]
    title = _(
        "Satisfaction rate by agency, as in the table (parents pool their units), %(period)s",
        period=report.period.label(),
    )
    if total > len(units):
        title += " " + _("(the %(shown)d lowest of %(total)d)", shown=len(units), total=total)
    with _quiet():
        return plots.forest_plot(
            [u.satisfied for u in units],
            [u.valid for u in units],
            targets,
            [u.name for u in units],
            confidence=report.confidence,
            method=report.options.method,
            title=title,
            xlabel=_("Satisfaction rate"),
            target_label=_("Target"),
            verdict_labels=verdict_labels(),
            decided=(
                [u.low for u in units],
                [u.high for u in units],
                [u.verdict for u in units],
            ),
            pooled=[u.family == "pooled" for u in units],
            pooled_label=_("Pooled rows (squares)"),
        )


def forest_rows(report: Report) -> list[dict]:
    """The forest plot's data: the table's rows, as drawn."""
    units, _total = forest_units(report)
    return [
        {
            "code": u.code,
            "name": u.name,
            "family": u.family,
            "valid": u.valid,
            "satisfied": u.satisfied,
            "rate": _round(u.rate),
            "low": _round(u.low),
            "high": _round(u.high),
            "target": u.target,
            "verdict": u.verdict,
        }
        for u in units
    ][::-1]


def trend_figure(report: Report, buckets, counts, name: str) -> Figure | None:
    if not any(n for n, _x in counts):
        return None
    row = report.rows[0]
    with _quiet():
        return plots.trend_plot(
            [x for _n, x in counts],
            [n for n, _x in counts],
            [b.label() for b in buckets],
            row.target,
            confidence=report.confidence,
            method=report.options.method,
            title=_("Satisfaction over time: %(name)s", name=name),
            xlabel=_("Period"),
            ylabel=_("Satisfaction rate"),
            target_label=_("Target"),
            rate_label=_("Satisfaction rate"),
            band_label=_("Confidence interval {confidence}"),
            centre_label=_("Centre line"),
            limits_label=_("Control limits (3σ)"),
            out_of_control_label=_("Unusual"),
        )


def trend_rows(report: Report, buckets, counts) -> list[dict]:
    """The trend table; empty (the pages' empty state) when no period has a response: a new
    agency, or a period before the first rating. A control chart needs at least one."""
    if not any(n for n, _x in counts):
        return []
    x = np.array([x for _n, x in counts], float)
    n = np.array([n for n, _x in counts], float)
    low, high = interval(x, n, report.confidence, report.options.method)
    chart = analysis.p_chart(x, n)
    rows = []
    for i, bucket in enumerate(buckets):
        rows.append(
            {
                "period": bucket.key,
                "label": bucket.label(),
                "valid": int(n[i]),
                "satisfied": int(x[i]),
                "rate": _round(chart.rate[i]),
                "low": _round(low[i]),
                "high": _round(high[i]),
                "centre": _round(chart.centre),
                "control_lower": _round(chart.lower[i]),
                "control_upper": _round(chart.upper[i]),
                "unusual": bool(chart.out_of_control[i]),
            }
        )
    return rows


def _round(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


class _quiet:
    """Silence the legacy-method warning: the page shows its own notice."""

    def __enter__(self):
        import warnings

        self._context = warnings.catch_warnings()
        self._context.__enter__()
        warnings.simplefilter("ignore", analysis.LegacyMethodWarning)

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


def render(figure: Figure, fmt: str) -> bytes:
    """PNG or SVG bytes of `figure` (no pyplot: safe in any thread)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "hailong"}):
        figure.savefig(buffer, format=fmt, dpi=110, metadata=_metadata(fmt))
    titles = getattr(figure, "point_titles", None)
    if fmt == "svg" and titles:
        return plots.svg_with_titles(buffer.getvalue(), titles)
    return buffer.getvalue()


def _metadata(fmt: str) -> dict:
    if fmt == "svg":
        return {"Date": None, "Creator": "hailong"}
    return {"Software": "hailong"}
