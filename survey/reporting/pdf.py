"""The PDF report for the Provincial People's Committee, rendered from a finished `Report`
(with the sections of the agencies that get a page of their own attached): title, summary,
table, funnel and forest plots, a page per agency below target, and a methods note.

One cohesive thing, the PDF report page by page, hence over 400 lines.
"""

from __future__ import annotations

import io
import math
import textwrap

import matplotlib
from flask_babel import gettext as _
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from survey.reporting import charts, labels
from survey.reporting.exports import (
    Progress,
    _noop,
    followup_absent_note,
    followup_notes,
    methods_note,
    parameters,
)
from survey.reporting.formatting import integer as _int
from survey.reporting.formatting import number, percent, points
from survey.reporting.official import ADMINISTRATIVE_LABELS, CLASS_LABELS, verdict_note
from survey.reporting.table import Report, Row

# Table rows per PDF page (A4 portrait).
PDF_ROWS_PER_PAGE = 32
# Agencies of the follow-up check per page (two lines each).
FOLLOWUP_PER_PAGE = 14
A4 = (8.27, 11.69)
FONT = "DejaVu Sans"  # bundled with matplotlib; has every Vietnamese letter
_PDF_RC = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "pdf.fonttype": 42,  # TrueType: text stays searchable and copyable
}


def agency_page_rows(report: Report) -> list[Row]:
    """Agencies that get a page of their own in the PDF: below target, the root excepted."""
    rows = report.visible_rows()
    return [r for r in rows if r.verdict == "below" and (r.depth > 0 or len(report.rows) == 1)]


def pdf_page_count(report: Report) -> int:
    """How many pages `to_pdf` writes (tests and the CLI's progress bar use it)."""
    rows = report.visible_rows()
    pages = 2 + max(1, math.ceil(len(rows) / PDF_ROWS_PER_PAGE))
    pages += charts.has_funnel(report) + charts.has_forest(report)
    pages += len(agency_page_rows(report)) + len(dossier_page_rows(report))
    return pages + len(_followup_chunks(report)) + 1


def dossier_page_rows(report: Report) -> list[Row]:
    """Agencies of `agency_page_rows` whose dossier splits (`report.dossiers`) have something
    to show: each gets a second page, after its own."""
    return [
        row
        for row in agency_page_rows(report)
        if (splits := report.dossiers.get(row.code)) is not None and not splits.is_empty
    ]


def to_pdf(report: Report, progress: Progress = _noop, province: str | None = None) -> bytes:
    """The PDF of `report`; the agencies of `agency_page_rows` need their sections in
    `report.details` (`survey.reporting.exports.export` attaches them)."""
    buffer = io.BytesIO()
    metadata = {
        "Title": _("Citizen satisfaction report"),
        "Subject": report.period.label(),
        "Creator": "hailong",
        "CreationDate": None,
        "ModDate": None,
    }
    with matplotlib.rc_context(_PDF_RC), PdfPages(buffer, metadata=metadata) as pdf:
        pdf.savefig(_title_page(report, province))
        progress("title")
        pdf.savefig(_summary_page(report))
        progress("summary")
        rows = report.visible_rows()
        chunks = [rows[i : i + PDF_ROWS_PER_PAGE] for i in range(0, len(rows), PDF_ROWS_PER_PAGE)]
        for number, chunk in enumerate(chunks or [[]], start=1):
            pdf.savefig(_table_page(report, chunk, number, max(1, len(chunks))))
            progress("table")
        for figure in (charts.funnel_figure(report), charts.forest_figure(report)):
            if figure is not None:
                pdf.savefig(figure)
                progress("chart")
        with_dossiers = {row.code for row in dossier_page_rows(report)}
        for row in agency_page_rows(report):
            pdf.savefig(_agency_page(report, row))
            progress("agency")
            if row.code in with_dossiers:
                pdf.savefig(_dossier_page(report, row, report.dossiers[row.code]))
                progress("dossiers")
        chunks = _followup_chunks(report)
        for number, chunk in enumerate(chunks, start=1):
            pdf.savefig(_followup_page(report, chunk, number, len(chunks)))
            progress("followup")
        pdf.savefig(_methods_page(report))
        progress("methods")
    return buffer.getvalue()


def _page() -> Figure:
    return Figure(figsize=A4)


def _text(fig: Figure, x: float, y: float, text: str, **kw) -> None:
    fig.text(x, y, text, fontfamily=FONT, va="top", **kw)


def _title_page(report: Report, province: str | None) -> Figure:
    fig = _page()
    _text(fig, 0.1, 0.8, _("Citizen satisfaction report"), fontsize=22, weight="bold")
    _text(fig, 0.1, 0.74, province or report.root_name, fontsize=16)
    _text(fig, 0.1, 0.70, report.period.label(), fontsize=16)
    y = 0.6
    for label, value in parameters(report):
        _text(fig, 0.1, y, f"{label}:", fontsize=11, weight="bold")
        _text(fig, 0.4, y, "\n".join(textwrap.wrap(value, 50)), fontsize=11)
        y -= 0.035 * (1 + len(value) // 50)
    _text(
        fig,
        0.1,
        0.08,
        _("Produced by hailong from responses recorded at one-stop desks."),
        fontsize=9,
        color="#444444",
    )
    return fig


def _summary_page(report: Report) -> Figure:
    fig = _page()
    s = report.summary
    _text(fig, 0.08, 0.94, _("Summary"), fontsize=18, weight="bold")
    if report.is_empty:
        _text(fig, 0.08, 0.88, _("No responses were recorded in this period."), fontsize=12)
        return fig
    lines = [
        _(
            "Province-wide satisfaction rate: %(rate)s (interval %(low)s–%(high)s)",
            rate=percent(s.rate),
            low=percent(s.low),
            high=percent(s.high),
        ),
        _(
            "Target: %(target)s. Verdict: %(verdict)s.",
            target=percent(s.target),
            verdict=labels.VERDICT_LABELS[s.verdict],
        ),
        *count_lines(s),
        str(labels.SUMMARY_BASIS_LABELS[s.basis]),
        uptake_line(s, report.response_warning),
        cases_line(s),
        *official_lines(report, s),
        "",
        _("Reporting units (each once; rows that pool units are not counted):"),
    ]
    for verdict in labels.VERDICTS:
        lines.append(f"{labels.VERDICT_LABELS[verdict]}: {s.verdict_counts[verdict]}")
    lines.append("")
    lines.append(_("Responses by channel:"))
    for channel, count, share in s.channels:
        lines.append(f"  {labels.CHANNEL_LABELS[channel]}: {_int(count)} ({percent(share)})")
    y = 0.88
    for line in lines:
        for part in textwrap.wrap(line, 90) or [""]:
            _text(fig, 0.08, y, part, fontsize=11)
            y -= 0.03
    return fig


def _table_page(report: Report, rows: list[Row], number: int, total: int) -> Figure:
    fig = _page()
    _text(
        fig,
        0.05,
        0.96,
        _("Agencies (page %(number)d of %(total)d)", number=number, total=total),
        fontsize=14,
        weight="bold",
    )
    headers = [
        (0.05, _("Agency"), "left"),
        (0.45, _("Responses"), "right"),
        (0.52, _("Rate"), "right"),
        (0.65, _("Interval"), "right"),
        (0.75, _("Response rate"), "right"),
        (0.77, _("Verdict"), "left"),
    ]
    y = 0.91
    for x, label, align in headers:
        _text(fig, x, y, label, fontsize=9, weight="bold", ha=align)
    y -= 0.025
    for row in rows:
        name = ("  " * min(row.depth, 4)) + row.name
        if len(name) > 40:
            name = name[:39] + "…"
        mark = " *" if row.small_sample else ""
        cells = [
            (0.05, name, "left"),
            (0.45, _int(row.valid), "right"),
            (0.52, percent(row.rate), "right"),
            (0.65, f"{percent(row.low)}–{percent(row.high)}", "right"),
            (0.75, percent(row.response_rate) + ("!" if row.low_response_rate else ""), "right"),
            (0.77, str(labels.VERDICT_LABELS[row.verdict]) + mark, "left"),
        ]
        for x, value, align in cells:
            _text(fig, x, y, value, fontsize=8, ha=align)
        y -= 0.026
    _text(
        fig,
        0.05,
        0.04,
        _(
            "* small sample: fewer than %(n)d valid responses. ! response rate below %(w)s; "
            "– no ticket issued (ratings without a denominator).",
            n=labels.SMALL_SAMPLE,
            w=percent(report.response_warning, 0),
        ),
        fontsize=8,
        color="#444444",
    )
    return fig


def count_lines(r) -> list[str]:
    """The valid and satisfied responses of a row or the summary, and those not counted."""
    return [
        _(
            "Valid responses: %(valid)s, of which satisfied: %(satisfied)s.",
            valid=_int(r.valid),
            satisfied=_int(r.satisfied),
        ),
        _(
            "Not counted: %(flagged)s flagged and %(excluded)s excluded.",
            flagged=_int(r.flagged),
            excluded=_int(r.excluded),
        ),
    ]


def uptake_line(r, warning: float) -> str:
    """The response rate in one sentence, for a row or the summary."""
    if r.response_rate is None:
        line = _("Response rate: no ticket was issued in this period.")
    else:
        line = _(
            "Response rate: %(rate)s (%(answered)s of %(base)s; tickets issued %(issued)s, "
            "used %(used)s).",
            rate=percent(r.response_rate),
            answered=_int(r.response_answered),
            base=_int(r.response_base),
            issued=_int(r.tickets_issued),
            used=_int(r.tickets_used),
        )
        if r.dossiers_handled:
            line += " " + _(
                "Dossiers handled (reported by the integrator): %(n)s.",
                n=_int(r.dossiers_handled),
            )
        if r.low_response_rate:
            line += " " + _(
                "Below %(threshold)s: the rates may not represent the citizens served.",
                threshold=percent(warning, 0),
            )
    if r.no_denominator:
        line += " " + _(
            "%(n)s ratings (QR code at the desk, kiosk, paper) have no denominator.",
            n=_int(r.no_denominator),
        )
    return line


def cases_line(r) -> str:
    """Criterion 8 in one sentence, for a row or the summary."""
    if not r.cases:
        return _("Cases (criterion 8): none opened in this period.")
    return _(
        "Cases (criterion 8): %(n)s opened, %(answered)s answered, %(on_time)s of those due "
        "answered on time, median %(days)s days to answer.",
        n=_int(r.cases),
        answered=percent(r.cases_answered_share),
        on_time=percent(r.cases_on_time_share),
        days=number(r.cases_median_days),
    )


def official_lines(report: Report, r) -> list[str]:
    """The counts by level and the indicator score of a row or the summary, as sentences."""
    lines = []
    if r.administrative_verdict:
        lines.append(
            _(
                "Administrative verdict (rate against target): %(verdict)s.",
                verdict=ADMINISTRATIVE_LABELS[r.administrative_verdict],
            )
        )
        if hasattr(r, "responses_needed") and (note := verdict_note(r)):
            lines.append(note)
    if r.levels and sum(r.levels.values()):
        total = sum(r.levels.values())
        parts = [
            f"{label} {_int(r.levels.get(code, 0))} ({percent(r.levels.get(code, 0) / total)})"
            for code, label in report.scale.levels
        ]
        lines.append(_("By level: %(levels)s.", levels="; ".join(parts)))
    points = r.points
    if points is not None and points.total is not None:
        lines.append(
            _(
                "Indicator score: %(total)s of %(max)s (interval %(low)s–%(high)s), class %(cls)s.",
                total=number(points.total, 2),
                max=format(points.maximum, "g"),
                low=number(points.low, 2),
                high=number(points.high, 2),
                cls=CLASS_LABELS[points.cls],
            )
        )
        names = dict(report.scale.indicators)
        weakest = [f"{names.get(c, c)} ({number(m, 2)})" for c, m in points.weakest(3)]
        if weakest:
            lines.append(_("Weakest indicators: %(list)s.", list="; ".join(weakest)))
    return lines


def _agency_page(report: Report, row: Row) -> Figure:
    fig = _page()
    _text(fig, 0.08, 0.94, row.name, fontsize=16, weight="bold")
    _text(fig, 0.08, 0.905, f"{row.code} · {report.period.label()}", fontsize=11, color="#444444")
    lines = [
        _(
            "Satisfaction rate: %(rate)s (interval %(low)s–%(high)s), target %(target)s.",
            rate=percent(row.rate),
            low=percent(row.low),
            high=percent(row.high),
            target=percent(row.target),
        ),
        *count_lines(row),
        _(
            "Previous period: %(rate)s of %(valid)s responses; change: %(change)s.",
            rate=percent(row.previous_rate),
            valid=_int(row.previous_valid),
            change=labels.CHANGE_LABELS[row.change_verdict],
        )
        + (
            " "
            + _(
                "Combined history: with the responses of %(codes)s, merged into this agency.",
                codes=", ".join(row.history_agencies),
            )
            if row.history == "combined"
            else ""
        ),
        uptake_line(row, report.response_warning),
        cases_line(row),
        *official_lines(report, row),
    ]
    parts = [part for line in lines for part in textwrap.wrap(line, 90)]
    sections = [
        section
        for section in report.details.get(row.code, [])
        if section.printed != 0 and section.rows
    ]
    # Everything on one page: the steps shrink (and the type a little) when the sentences and
    # the sections' rows would run past the bottom margin.
    needed = 0.027 * len(parts) + sum(
        0.05 + 0.024 * len(section.rows[: section.printed]) for section in sections
    )
    scale = min(1.0, (0.86 - 0.05) / needed) if needed else 1.0
    size = max(scale, 0.8)
    y = 0.86
    for part in parts:
        _text(fig, 0.08, y, part, fontsize=10.5 * size)
        y -= 0.027 * scale
    for section in sections:
        y -= 0.02 * scale
        _text(fig, 0.08, y, section.title, fontsize=12 * size, weight="bold")
        y -= 0.03 * scale
        for item in section.rows[: section.printed]:
            label = f"{item.key} – {item.label}" if section.show_key else item.label
            label = label if len(label) < 62 else label[:61] + "…"
            _text(fig, 0.08, y, label, fontsize=8.5 * size)
            _text(fig, 0.78, y, _int(item.valid), fontsize=8.5 * size, ha="right")
            _text(fig, 0.92, y, percent(item.rate), fontsize=8.5 * size, ha="right")
            y -= 0.024 * scale
    return fig


# Procedures and desks listed on an agency's dossier page (all of them in the Excel file).
DOSSIER_PROCEDURES = 16
DOSSIER_DESKS = 8


def _share(rate) -> str:
    """ "78.0% (39/50), interval 64.8%–87.2%" in the reader's language."""
    return _(
        "%(rate)s (%(x)s/%(n)s), interval %(low)s–%(high)s",
        rate=percent(rate.rate),
        x=_int(rate.satisfied),
        n=_int(rate.responses),
        low=percent(rate.low),
        high=percent(rate.high),
    )


def dossier_lines(splits) -> list[str]:
    """The dossier splits of an agency as sentences (its PDF page): on time and late, their
    difference, the on-time rate and the response rate of tickets."""
    lines = []
    for label, rate in (
        (_("Returned on time"), splits.on_time),
        (_("Returned late"), splits.late),
    ):
        value = _share(rate) if rate.responses else _("no rating")
        lines.append(f"{label}: {value}.")
    if splits.not_returned.responses:
        lines.append(
            _(
                "Not returned yet, or no due date: %(n)s ratings.",
                n=_int(splits.not_returned.responses),
            )
        )
    d = splits.difference
    if d.difference is None:
        lines.append(
            _("No difference can be computed: it needs ratings of both on-time and late dossiers.")
        )
    else:
        line = _(
            "On time minus late: %(diff)s points (Newcombe interval %(low)s to %(high)s).",
            diff=points(d.difference),
            low=points(d.low),
            high=points(d.high),
        )
        if d.low > 0:
            line += " " + _(
                "Citizens whose dossier was returned late are less satisfied, beyond chance."
            )
        lines.append(line)
    lines.append(
        _(
            "Ratings given before the result was returned are included (%(n)d).",
            n=splits.before_return_responses,
        )
    )
    if splits.returned:
        lines.append(
            _(
                "On-time rate (service metric): %(rate)s (%(x)s of %(n)s dossiers returned in "
                "the period with a due date), interval %(low)s–%(high)s.",
                rate=percent(splits.on_time_rate.rate),
                x=_int(splits.returned_on_time),
                n=_int(splits.returned),
                low=percent(splits.on_time_rate.low),
                high=percent(splits.on_time_rate.high),
            )
        )
    else:
        lines.append(_("On-time rate (service metric): no dossier with a due date was returned."))
    if splits.issued:
        line = _(
            "Response rate of tickets: %(rate)s (%(used)s of %(issued)s tickets issued in the "
            "period were used).",
            rate=percent(splits.response_rate),
            used=_int(splits.used),
            issued=_int(splits.issued),
        )
        if splits.low_response:
            line += " " + _(
                "Fewer than %(threshold)s of ticket holders answered: the rates may not "
                "represent the citizens served.",
                threshold=percent(splits.warning_below, 0),
            )
        lines.append(line)
    else:
        lines.append(_("Response rate of tickets: no ticket was issued in this period."))
    if splits.untracked:
        lines.append(
            _(
                "Ratings without a denominator (no ticket): %(list)s.",
                list="; ".join(
                    f"{labels.CHANNEL_LABELS.get(channel, channel)} {_int(n)}"
                    for channel, n in splits.untracked.items()
                ),
            )
        )
    return lines


def _dossier_page(report: Report, row: Row, splits) -> Figure:
    fig = _page()
    _text(fig, 0.08, 0.94, row.name, fontsize=16, weight="bold")
    _text(
        fig,
        0.08,
        0.905,
        f"{row.code} · {report.period.label()} · "
        + _("Dossiers: on-time return, procedures and response rate"),
        fontsize=11,
        color="#444444",
    )
    y = 0.865
    for line in dossier_lines(splits):
        for part in textwrap.wrap(line, 92):
            _text(fig, 0.08, y, part, fontsize=10)
            y -= 0.025
    columns = (
        (0.56, _("Responses")),
        (0.64, _("Satisfied")),
        (0.71, _("Rate")),
        (0.87, _("Interval")),
        (0.95, _("Shrunk")),
    )

    def table(title: str, groups, first: str, named: bool, limit: int | None) -> None:
        nonlocal y
        y -= 0.015
        _text(fig, 0.08, y, title, fontsize=12, weight="bold")
        y -= 0.028
        _text(fig, 0.08, y, first, fontsize=8.5, weight="bold")
        for x, label in columns:
            _text(fig, x, y, label, fontsize=8.5, weight="bold", ha="right")
        y -= 0.021
        for g in groups[:limit]:
            label = f"{g.code} – {g.name}" if named and g.name else g.code
            label = label if len(label) < 46 else label[:45] + "…"
            _text(fig, 0.08, y, label, fontsize=8.5)
            cells = (
                _int(g.rate.responses),
                _int(g.rate.satisfied),
                percent(g.rate.rate),
                f"{percent(g.rate.low)}–{percent(g.rate.high)}",
                percent(g.shrunk),
            )
            for (x, _label), value in zip(columns, cells, strict=True):
                _text(fig, x, y, value, fontsize=8.5, ha="right")
            y -= 0.02
        if limit is not None and len(groups) > limit:
            _text(
                fig,
                0.08,
                y,
                _(
                    "… and %(n)d more, in the Excel file (sheet “By dossier”).",
                    n=len(groups) - limit,
                ),
                fontsize=8.5,
                color="#444444",
            )
            y -= 0.02

    if splits.by_field:
        table(_("By field, the worst first"), splits.by_field, _("Field"), False, None)
    if splits.by_procedure:
        table(
            _("By procedure, the worst first"),
            splits.by_procedure,
            _("Procedure"),
            True,
            DOSSIER_PROCEDURES,
        )
    if splits.desks:
        y -= 0.015
        _text(fig, 0.08, y, _("Response rate by desk"), fontsize=12, weight="bold")
        y -= 0.028
        for x, label, align in (
            (0.08, _("Desk"), "left"),
            (0.66, _("Tickets issued"), "right"),
            (0.81, _("Tickets used"), "right"),
            (0.95, _("Response rate"), "right"),
        ):
            _text(fig, x, y, label, fontsize=8.5, weight="bold", ha=align)
        y -= 0.021
        for desk in splits.desks[:DOSSIER_DESKS]:
            label = f"{desk.code} – {desk.name}"
            _text(fig, 0.08, y, label if len(label) < 52 else label[:51] + "…", fontsize=8.5)
            _text(fig, 0.66, y, _int(desk.issued), fontsize=8.5, ha="right")
            _text(fig, 0.81, y, _int(desk.used), fontsize=8.5, ha="right")
            _text(fig, 0.95, y, percent(desk.rate), fontsize=8.5, ha="right")
            y -= 0.02
    note = _(
        "Ranked by the shrunk estimate (empirical Bayes), so that a procedure with very few "
        "ratings does not top the list; every procedure and desk in the Excel file."
    )
    _text(fig, 0.08, 0.055, "\n".join(textwrap.wrap(note, 120)), fontsize=8, color="#444444")
    return fig


def _followup_chunks(report: Report) -> list[list]:
    """The agencies of the follow-up check, page by page (one page, empty, without a draw:
    it then says that nothing checks the self-selected ratings)."""
    found = report.followup
    agencies = found.agencies if found is not None else []
    return [
        agencies[i : i + FOLLOWUP_PER_PAGE] for i in range(0, len(agencies), FOLLOWUP_PER_PAGE)
    ] or [[]]


def followup_verdict(check) -> str:
    if check.differs is None:
        return _("Not enough answers yet")
    return _("Differ beyond chance") if check.differs else _("Consistent")


def followup_line(check) -> str:
    """One agency's follow-up check in one sentence (the numbers of the CSV and JSON)."""
    low, high = check.followup_interval()
    parts = []
    if check.answered:
        parts.append(
            _(
                "Follow-up: %(rate)s (%(x)s/%(n)s), interval %(low)s–%(high)s.",
                rate=percent(check.followup_rate),
                x=_int(check.followup_satisfied),
                n=_int(check.answered),
                low=percent(low),
                high=percent(high),
            )
        )
    else:
        parts.append(_("Follow-up: no answer yet."))
    parts.append(
        _(
            "Response rate of the calls: %(rate)s (%(answered)s/%(called)s; %(sampled)s "
            "sampled, %(pending)s not called yet).",
            rate=percent(check.response_rate, 0),
            answered=_int(check.answered),
            called=_int(check.called),
            sampled=_int(check.sampled),
            pending=_int(check.pending),
        )
    )
    if check.self_responses:
        parts.append(
            _(
                "Self-selected: %(rate)s (%(x)s/%(n)s).",
                rate=percent(check.self_rate),
                x=_int(check.self_satisfied),
                n=_int(check.self_responses),
            )
        )
    else:
        parts.append(_("Self-selected: no rating."))
    if check.check is not None:
        parts.append(
            _(
                "Difference: %(d)s points (%(low)s … %(high)s).",
                d=points(check.check.difference),
                low=points(check.check.low),
                high=points(check.check.high),
            )
        )
    return " ".join(parts)


def _followup_page(report: Report, checks: list, number: int, total: int) -> Figure:
    fig = _page()
    title = _("Follow-up check of the self-selected ratings")
    if total > 1:
        title += f" ({number}/{total})"
    _text(fig, 0.08, 0.94, title, fontsize=15, weight="bold")
    y = 0.895
    found = report.followup
    notes = followup_notes(report) if found is not None else [followup_absent_note()]
    for paragraph in notes:
        for line in textwrap.wrap(paragraph, 95):
            _text(fig, 0.08, y, line, fontsize=9.5, color="#333333")
            y -= 0.022
        y -= 0.008
    y -= 0.01
    for check in checks:
        flagged = bool(check.differs)
        _text(
            fig,
            0.08,
            y,
            f"{check.name} ({check.code}): {followup_verdict(check)}",
            fontsize=10,
            weight="bold",
            color="#a40000" if flagged else "#000000",
        )
        y -= 0.022
        for line in textwrap.wrap(followup_line(check), 100):
            _text(fig, 0.10, y, line, fontsize=8.5)
            y -= 0.019
        y -= 0.012
    return fig


def _methods_page(report: Report) -> Figure:
    fig = _page()
    _text(fig, 0.08, 0.94, _("Methods"), fontsize=16, weight="bold")
    y = 0.89
    for paragraph in methods_note():
        for line in textwrap.wrap(paragraph, 88):
            _text(fig, 0.08, y, line, fontsize=10)
            y -= 0.025
        y -= 0.015
    return fig
