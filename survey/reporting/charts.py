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
from survey.reporting.table import Report, Row, assess, interval

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
        [u.own_satisfied for u in units],
        [u.own_valid for u in units],
        report.summary.target,
        coverages=FUNNEL_COVERAGES,
        title=_(
            "Funnel plot: satisfaction rate by number of responses, %(period)s",
            period=report.period.label(),
        ),
        xlabel=_("Valid responses"),
        ylabel=_("Satisfaction rate"),
        target_label=_("Target"),
        limit_label=_("Limits {coverage}"),
        point_label=_("Agencies"),
    )


def funnel_rows(report: Report) -> list[dict]:
    units = report.units()
    target = report.summary.target
    if not units or target is None:
        return []
    limits = analysis.funnel_limits([u.own_valid for u in units], target, FUNNEL_COVERAGES)
    rows = []
    for i, unit in enumerate(units):
        rate = unit.own_satisfied / unit.own_valid
        row = {
            "code": unit.code,
            "name": unit.name,
            "valid": unit.own_valid,
            "satisfied": unit.own_satisfied,
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
    """The agencies drawn in the forest plot (the view's filters apply), best rate first, and
    how many there were before the cap."""
    units = report.filtered_rows(report.units())
    total = len(units)
    units.sort(key=lambda u: u.own_satisfied / u.own_valid)
    units = units[:MAX_FOREST]
    units.reverse()
    return units, total


def forest_figure(report: Report) -> Figure | None:
    if not has_forest(report):
        return None
    units, total = forest_units(report)
    targets = [u.target for u in units]
    title = _("Satisfaction rate by agency, %(period)s", period=report.period.label())
    if total > len(units):
        title += " " + _("(the %(shown)d lowest of %(total)d)", shown=len(units), total=total)
    with _quiet():
        return plots.forest_plot(
            [u.own_satisfied for u in units],
            [u.own_valid for u in units],
            targets,
            [u.name for u in units],
            confidence=report.confidence,
            method=report.options.method,
            adjust=None if report.options.adjust == "none" else report.options.adjust,
            title=title,
            xlabel=_("Satisfaction rate"),
            target_label=_("Target"),
            verdict_labels=verdict_labels(),
        )


def forest_rows(report: Report) -> list[dict]:
    units, _total = forest_units(report)
    if not units:
        return []
    result = assess(
        np.array([u.own_satisfied for u in units], float),
        np.array([u.own_valid for u in units], float),
        np.array([u.target if u.target is not None else 0.5 for u in units], float),
        report.confidence,
        report.options.method,
        None if report.options.adjust == "none" else report.options.adjust,
    )
    return [
        {
            "code": u.code,
            "name": u.name,
            "valid": u.own_valid,
            "satisfied": u.own_satisfied,
            "rate": round(float(result.rate[i]), 6),
            "low": round(float(result.low[i]), 6),
            "high": round(float(result.high[i]), 6),
            "target": u.target,
            "verdict": str(result.verdict[i]) if u.target is not None else "no_target",
        }
        for i, u in enumerate(units)
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
    return buffer.getvalue()


def _metadata(fmt: str) -> dict:
    if fmt == "svg":
        return {"Date": None, "Creator": "hailong"}
    return {"Software": "hailong"}
