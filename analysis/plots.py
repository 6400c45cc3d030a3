"""Charts for satisfaction rates: funnel plot, forest plot and trend with p-chart limits.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so that a
web server can render it to PNG or SVG (``fig.savefig(buffer, format="svg")``) from any
thread without touching global state. Text uses DejaVu Sans, bundled with matplotlib, which
has every Vietnamese letter with its diacritics. All labels are parameters: the web app
passes translated strings; the defaults are Vietnamese.

One cohesive thing, the report's charts drawn one way (same figure set-up, fonts and
colours), hence over 400 lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from analysis._validation import check_counts
from analysis.control import p_chart
from analysis.funnel import funnel_limits
from analysis.intervals import check_method, interval_bounds
from analysis.target import assess_target

__all__ = [
    "FONT_FAMILY",
    "VERDICT_COLOURS",
    "forest_plot",
    "funnel_plot",
    "svg_with_titles",
    "trend_plot",
]

#: Font used for every text element; bundled with matplotlib and covers Vietnamese.
FONT_FAMILY = "DejaVu Sans"

#: Colours of the verdicts (colour-blind safe: blue / vermilion / grey).
VERDICT_COLOURS = {
    "meets": "#0072B2",
    "below": "#D55E00",
    "inconclusive": "#7F7F7F",
    "no_data": "#BFBFBF",
}

DEFAULT_VERDICT_LABELS = {
    "meets": "Đạt mục tiêu",
    "below": "Dưới mục tiêu",
    "inconclusive": "Chưa đủ bằng chứng",
    "no_data": "Chưa có dữ liệu",
}

_RC = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY],
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_TEXT = {"fontfamily": FONT_FAMILY}
_LEGEND = {"prop": {"family": FONT_FAMILY, "size": 8}, "frameon": False}


def _percent(value: float) -> str:
    """Format a level the Vietnamese way: 0.998 -> '99,8%'."""
    return f"{value * 100:.10g}%".replace(".", ",")


def _finish_axes(ax, title, xlabel, ylabel) -> None:
    ax.set_title(title, **_TEXT)
    ax.set_xlabel(xlabel, **_TEXT)
    ax.set_ylabel(ylabel, **_TEXT)
    for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        label.set_fontfamily(FONT_FAMILY)


def funnel_plot(
    successes,
    trials,
    target: float,
    *,
    coverages: Sequence[float] = (0.95, 0.998),
    title: str = "Biểu đồ phễu: tỷ lệ hài lòng theo số phản hồi",
    xlabel: str = "Số phản hồi",
    ylabel: str = "Tỷ lệ hài lòng",
    target_label: str = "Mục tiêu",
    limit_label: str = "Giới hạn {coverage}",
    point_label: str = "Cơ quan, đơn vị",
    names: Sequence[str] | None = None,
    parents: Sequence[bool] | None = None,
    parent_label: str = "Cơ quan có đơn vị trực thuộc (chỉ quầy của mình)",
) -> Figure:
    """Funnel plot: each agency's rate against its number of responses (Spiegelhalter 2005).

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per agency.
    target : float
        Target rate: the centre line of the funnel.
    coverages : sequence of float, optional
        Coverages of the control limits, default 95% and 99.8%.
    title, xlabel, ylabel, target_label, point_label : str, optional
        Texts (Vietnamese by default).
    limit_label : str, optional
        Legend text for each pair of limits; ``{coverage}`` is replaced by e.g. ``99,8%``.
    names : sequence of str, optional
        One tooltip per agency. Each point is then drawn as its own artist with the SVG id
        ``funnel-point-<i>``, and ``fig.point_titles`` maps those ids to the names: pass the
        saved SVG through :func:`svg_with_titles` to give every point an SVG ``<title>``.
    parents : sequence of bool, optional
        Agencies that have units under them (drawn as squares, with ``parent_label`` in the
        legend), to tell them from leaves (circles).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Spiegelhalter (2005), Funnel plots for comparing institutional performance, Statistics in
    Medicine 24, 1185-1202.

    Examples
    --------
    >>> from analysis.plots import funnel_plot
    >>> fig = funnel_plot([40, 170, 75], [50, 200, 100], target=0.8)
    >>> fig.axes[0].get_xlabel()
    'Số phản hồi'
    """
    x, n, _ = check_counts(successes, trials)
    x, n = np.atleast_1d(x).ravel(), np.atleast_1d(n).ravel()
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.0, 4.5), layout="constrained")
        ax = fig.add_subplot()
        top = max(float(n.max(initial=0.0)) * 1.05, 10.0)
        grid = np.unique(np.round(np.geomspace(1.0, top, 300)))
        limits = funnel_limits(grid, target, coverages)
        styles = ["--", ":", "-."]
        for row, coverage in enumerate(limits.coverages):
            style = styles[row % len(styles)]
            label = limit_label.format(coverage=_percent(coverage))
            ax.plot(grid, limits.lower[row], style, color="#444444", lw=1, label=label)
            ax.plot(grid, limits.upper[row], style, color="#444444", lw=1)
        ax.axhline(target, color="#009E73", lw=1.5, label=target_label)
        has_data = n > 0
        rate = x[has_data] / n[has_data]
        at_n = funnel_limits(n[has_data], target, coverages)
        colours = np.select(
            [rate > at_n.upper[0], rate < at_n.lower[0]],
            [VERDICT_COLOURS["meets"], VERDICT_COLOURS["below"]],
            VERDICT_COLOURS["inconclusive"],
        )
        square = np.zeros(n.shape, bool) if parents is None else np.asarray(parents, bool)
        square = square[has_data]
        if names is None:
            for mask, marker, label in ((~square, "o", point_label), (square, "s", parent_label)):
                if mask.any():
                    ax.scatter(
                        n[has_data][mask],
                        rate[mask],
                        c=colours[mask],
                        s=22,
                        marker=marker,
                        zorder=3,
                        label=label,
                    )
        else:
            titles = {}
            shown = np.asarray(list(names), dtype=object)[has_data]
            labelled = set()
            for i, (count, value) in enumerate(zip(n[has_data], rate, strict=True)):
                marker, label = ("s", parent_label) if square[i] else ("o", point_label)
                gid = f"funnel-point-{i}"
                ax.scatter(
                    [count],
                    [value],
                    c=[colours[i]],
                    s=22,
                    marker=marker,
                    zorder=3,
                    gid=gid,
                    label=label if label not in labelled else "_nolegend_",
                )
                labelled.add(label)
                titles[gid] = f"{shown[i]}: {_percent(value)} ({int(count)})"
            fig.point_titles = titles
        ax.set_xlim(0, top)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.legend(loc="lower right", **_LEGEND)
        _finish_axes(ax, title, xlabel, ylabel)
    return fig


def forest_plot(
    successes,
    trials,
    target,
    names: Sequence[str],
    *,
    confidence: float = 0.95,
    method: str = "wilson",
    adjust: str | None = None,
    title: str = "Tỷ lệ hài lòng theo cơ quan, đơn vị",
    xlabel: str = "Tỷ lệ hài lòng",
    target_label: str = "Mục tiêu",
    verdict_labels: Mapping[str, str] | None = None,
    decided: tuple | None = None,
    pooled=None,
    pooled_label: str = "Dòng tính gộp (hình vuông)",
) -> Figure:
    """Forest plot: each agency's rate with its interval, the target, coloured by verdict.

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per agency (1-D).
    target : float or array_like
        Target rate(s), as in :func:`analysis.assess_target`.
    names : sequence of str
        Agency names, one per agency, drawn top to bottom in the given order.
    confidence, method, adjust : optional
        Passed to :func:`analysis.assess_target`; the colours are its verdicts.
    title, xlabel, target_label : str, optional
        Texts (Vietnamese by default).
    verdict_labels : mapping, optional
        Legend text per verdict (``'meets'``, ``'below'``, ``'inconclusive'``,
        ``'no_data'``); Vietnamese by default.
    decided : tuple of (low, high, verdict) arrays, optional
        Intervals and verdicts decided elsewhere (e.g. adjusted across a larger family than
        the agencies drawn), drawn as given instead of calling :func:`assess_target`.
    pooled : array_like of bool, optional
        Agencies whose figures pool units under them: drawn as squares, with
        ``pooled_label`` in the legend.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Lewis, S. and Clarke, M. (2001). Forest plots: trying to see the wood and the trees.
    BMJ 322, 1479-1480.

    Examples
    --------
    >>> from analysis.plots import forest_plot
    >>> fig = forest_plot([95, 70, 30], [100, 100, 40], 0.8, ["Sở Tư pháp", "UBND xã A", "Sở Y tế"])
    >>> [label.get_text() for label in fig.axes[0].get_yticklabels()]
    ['Sở Tư pháp', 'UBND xã A', 'Sở Y tế']
    """
    result = assess_target(successes, trials, target, confidence, method, adjust)
    if decided is not None:
        low_, high_, verdict_ = (np.atleast_1d(np.asarray(v)) for v in decided)
        result = replace(result, low=low_.astype(float), high=high_.astype(float), verdict=verdict_)
    verdicts = np.atleast_1d(result.verdict)
    square = (
        np.zeros(verdicts.shape, bool)
        if pooled is None
        else np.atleast_1d(np.asarray(pooled, bool))
    )
    if len(names) != verdicts.size or verdicts.ndim != 1:
        raise ValueError(
            f"names must give one name per agency; got {len(names)} names "
            f"for {verdicts.size} agencies"
        )
    labels = {**DEFAULT_VERDICT_LABELS, **(verdict_labels or {})}
    rate, low, high = (np.atleast_1d(v) for v in (result.rate, result.low, result.high))
    position = np.arange(verdicts.size)[::-1]
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(8.0, 1.4 + 0.32 * verdicts.size), layout="constrained")
        ax = fig.add_subplot()
        for verdict in ("meets", "below", "inconclusive"):
            for is_pooled, marker in ((False, "o"), (True, "s")):
                mask = (verdicts == verdict) & (square == is_pooled)
                if not mask.any():
                    continue
                ax.errorbar(
                    rate[mask],
                    position[mask],
                    xerr=np.vstack([rate[mask] - low[mask], high[mask] - rate[mask]]),
                    fmt=marker,
                    ms=5,
                    capsize=2,
                    color=VERDICT_COLOURS[verdict],
                    label=labels[verdict]
                    if not is_pooled or not ((verdicts == verdict) & ~square).any()
                    else None,
                )
        if square.any():
            ax.scatter([], [], marker="s", color="#444444", label=pooled_label)
        targets = np.broadcast_to(result.target, verdicts.shape)
        if np.all(targets == targets[0]):
            ax.axvline(targets[0], color="#009E73", lw=1.5, label=target_label)
        else:
            ax.scatter(targets, position, marker="|", s=150, color="#009E73", label=target_label)
        if (verdicts == "no_data").any():
            ax.scatter([], [], color=VERDICT_COLOURS["no_data"], label=labels["no_data"])
        ax.set_yticks(position, labels=list(names), **_TEXT)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.7, verdicts.size - 0.3)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), **_LEGEND)
        _finish_axes(ax, title, xlabel, "")
    return fig


def trend_plot(
    successes,
    trials,
    periods: Sequence[str],
    target: float | None = None,
    *,
    confidence: float = 0.95,
    method: str = "wilson",
    title: str = "Tỷ lệ hài lòng theo thời gian",
    xlabel: str = "Kỳ báo cáo",
    ylabel: str = "Tỷ lệ hài lòng",
    target_label: str = "Mục tiêu",
    rate_label: str = "Tỷ lệ hài lòng",
    band_label: str = "Khoảng tin cậy {confidence}",
    centre_label: str = "Đường trung tâm",
    limits_label: str = "Giới hạn kiểm soát (3σ)",
    out_of_control_label: str = "Bất thường",
) -> Figure:
    """Trend of the rate per period, with its interval band, the target and p-chart limits.

    Parameters
    ----------
    successes, trials : array_like of int
        Satisfied and valid responses per period, in time order (1-D).
    periods : sequence of str
        Period labels, e.g. ``["Quý 1/2025", "Quý 2/2025"]``.
    target : float, optional
        Target line; none drawn if None.
    confidence, method : optional
        Interval for the band, as in :func:`analysis.proportion_ci`.
    title, xlabel, ylabel, target_label, rate_label, centre_label, limits_label, \
out_of_control_label : str, optional
        Texts (Vietnamese by default).
    band_label : str, optional
        Legend text of the band; ``{confidence}`` is replaced by e.g. ``95%``.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    Montgomery (2009), Introduction to Statistical Quality Control, section 7.2;
    Brown, Cai & DasGupta (2001), Statistical Science 16, 101-133.

    Examples
    --------
    >>> from analysis.plots import trend_plot
    >>> fig = trend_plot([80, 85, 60, 82], [100, 100, 100, 100], ["Q1", "Q2", "Q3", "Q4"], 0.8)
    >>> fig.axes[0].get_title()
    'Tỷ lệ hài lòng theo thời gian'
    """
    x, n, _ = check_counts(successes, trials)
    x, n = np.atleast_1d(x), np.atleast_1d(n)
    if x.ndim != 1 or len(periods) != x.size:
        raise ValueError(
            f"periods must give one label per period; got {len(periods)} labels "
            f"for counts of shape {x.shape}"
        )
    check_method(method)
    chart = p_chart(x, n)
    low, high = interval_bounds(x, n, confidence, method)
    position = np.arange(x.size)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.0, 4.0), layout="constrained")
        ax = fig.add_subplot()
        ax.fill_between(
            position,
            low,
            high,
            color="#0072B2",
            alpha=0.18,
            lw=0,
            label=band_label.format(confidence=_percent(confidence)),
        )
        ax.plot(position, chart.rate, "o-", color="#0072B2", label=rate_label)
        ax.axhline(chart.centre, color="#444444", lw=1, label=centre_label)
        ax.step(position, chart.lower, ":", where="mid", color="#444444", lw=1, label=limits_label)
        ax.step(position, chart.upper, ":", where="mid", color="#444444", lw=1)
        if chart.out_of_control.any():
            ax.scatter(
                position[chart.out_of_control],
                chart.rate[chart.out_of_control],
                s=80,
                facecolors="none",
                edgecolors="#D55E00",
                lw=1.5,
                zorder=4,
                label=out_of_control_label,
            )
        if target is not None:
            ax.axhline(target, color="#009E73", lw=1.5, ls="--", label=target_label)
        ax.set_xticks(position, labels=list(periods), **_TEXT)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.legend(loc="lower left", ncols=2, **_LEGEND)
        _finish_axes(ax, title, xlabel, ylabel)
    return fig


def svg_with_titles(svg: bytes, titles: Mapping[str, str]) -> bytes:
    """Give the SVG groups with the ids in ``titles`` a ``<title>`` child (a tooltip in every
    browser and the name a screen reader announces), e.g. the points of :func:`funnel_plot`.

    matplotlib writes an artist with ``gid`` as ``<g id="...">``; the title is inserted right
    after that opening tag, escaped.

    Examples
    --------
    >>> svg_with_titles(b'<svg><g id="p-0"><path/></g></svg>', {"p-0": "Xã A & B"})
    b'<svg><g id="p-0"><title>X\xc3\xa3 A &amp; B</title><path/></g></svg>'
    """
    from xml.sax.saxutils import escape

    text = svg.decode("utf-8")
    for gid, title in titles.items():
        opening = f'<g id="{gid}">'
        text = text.replace(opening, f"{opening}<title>{escape(title)}</title>", 1)
    return text.encode("utf-8")
