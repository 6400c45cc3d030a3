"""Reports as files: CSV (UTF-8 with BOM), Excel, PDF and JSON, from one `Report`.

The same builders serve the dashboard's downloads, the `report` command and the API, so every
channel shows the same numbers. Texts follow the current locale (Vietnamese by default).
"""

from __future__ import annotations

import csv
import io
import math
import textwrap
from collections.abc import Callable
from datetime import datetime

import matplotlib
from flask_babel import gettext as _
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from survey import reporting
from survey.dashboard import charts
from survey.dashboard.formatting import integer as _int
from survey.dashboard.formatting import percent
from survey.periods import to_local
from survey.reporting import Report, Row

FORMATS = ("csv", "xlsx", "pdf", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
}
# Table rows per PDF page (A4 portrait).
PDF_ROWS_PER_PAGE = 32
A4 = (8.27, 11.69)
FONT = "DejaVu Sans"  # bundled with matplotlib; has every Vietnamese letter
_PDF_RC = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "pdf.fonttype": 42,  # TrueType: text stays searchable and copyable
}

Progress = Callable[[str], None]


def _noop(_step: str) -> None:
    return None


def columns() -> list[tuple[str, str, str]]:
    """(field, header, type) of the agency table; type is text, int, percent or number."""
    return [
        ("code", _("Code"), "text"),
        ("name", _("Agency"), "text"),
        ("parent_code", _("Parent code"), "text"),
        ("level", _("Level"), "text"),
        ("kind", _("Kind"), "text"),
        ("valid", _("Valid responses"), "int"),
        ("satisfied", _("Satisfied"), "int"),
        ("rate", _("Rate"), "percent"),
        ("low", _("Interval low"), "percent"),
        ("high", _("Interval high"), "percent"),
        ("target", _("Target"), "percent"),
        ("verdict", _("Verdict"), "text"),
        ("p_meets", _("p-value (meets)"), "number"),
        ("p_below", _("p-value (below)"), "number"),
        ("responses_needed", _("Responses needed"), "int"),
        ("small_sample", _("Small sample"), "text"),
        ("previous_valid", _("Previous period: valid"), "int"),
        ("previous_rate", _("Previous period: rate"), "percent"),
        ("change", _("Change"), "percent"),
        ("change_low", _("Change interval low"), "percent"),
        ("change_high", _("Change interval high"), "percent"),
        ("change_verdict", _("Change verdict"), "text"),
        ("flagged", _("Flagged"), "int"),
        ("excluded", _("Excluded"), "int"),
        ("active", _("Active"), "text"),
    ]


def cell(row: Row, name: str):
    """A table value as data: numbers stay numbers, codes become translated words."""
    value = getattr(row, name)
    if name == "verdict":
        return str(reporting.VERDICT_LABELS[value])
    if name == "change_verdict":
        return str(reporting.CHANGE_LABELS[value])
    if name == "level":
        return str(reporting.LEVEL_LABELS.get(value, value))
    if name == "kind":
        return str(reporting.KIND_LABELS.get(value, value))
    if name in ("small_sample", "active"):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return round(value, 6)
    return value


def filename(report: Report, fmt: str) -> str:
    scope = report.options.agency or "all"
    key = report.period.key.replace("..", "_")
    return f"hailong-{key}-{scope}.{fmt}"


# ---- CSV -------------------------------------------------------------------------------------


def to_csv(report: Report) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows Vietnamese letters correctly.

    Rates are fractions (0.912345) with a dot, as data; use the Excel file for formatting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    cols = columns()
    writer.writerow([header for _key, header, _type in cols])
    for row in report.visible_rows():
        writer.writerow(["" if (v := cell(row, key)) is None else v for key, _h, _t in cols])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def rows_to_csv(rows: list[dict]) -> bytes:
    """Chart data as CSV (UTF-8 with BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if rows:
        writer.writerow(rows[0].keys())
        for row in rows:
            writer.writerow(["" if v is None else v for v in row.values()])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


# ---- method description (shared by Excel, PDF and JSON) --------------------------------------


def parameters(report: Report) -> list[tuple[str, str]]:
    options = report.options
    summary = report.summary
    target = (
        _("%(target)s (what-if override)", target=percent(options.target))
        if options.target is not None
        else (
            _("%(target)s (from the target table)", target=percent(summary.target))
            if summary.target is not None
            else _("none applies to this period")
        )
    )
    return [
        (_("Scope"), report.root_name),
        (
            _("Period"),
            f"{report.period.label()} ({report.period.start:%d/%m/%Y}–{report.period.end:%d/%m/%Y})",
        ),
        (_("Compared with"), report.previous.label()),
        (_("Target"), target),
        (_("Confidence level"), f"{options.confidence}%"),
        (_("Interval method"), str(reporting.METHOD_LABELS[options.method])),
        (_("Multiplicity adjustment"), str(reporting.ADJUST_LABELS[options.adjust])),
        (_("Generated"), f"{to_local(report.generated_at):%d/%m/%Y %H:%M} (UTC+7)"),
    ]


def methods_note() -> list[str]:
    return [
        _(
            "The satisfaction rate is the number of satisfied responses (Very satisfied or "
            "Satisfied) divided by the number of valid responses in the period. Responses "
            "flagged by the automatic checks or excluded by an analyst are not counted; the "
            "report shows how many there were."
        ),
        _(
            "Each rate comes with a confidence interval. An agency meets the target when the "
            "whole interval lies above the target, is below it when the whole interval lies "
            "below, and otherwise there is not enough evidence yet; the report then estimates "
            "how many more responses would settle it if the current rate held."
        ),
        _(
            "A parent agency pools the responses of its whole subtree. Charts show each "
            "agency's own responses, so that no response is counted twice. The change from "
            "the previous period uses Newcombe's hybrid score interval for a difference."
        ),
        _(
            "The funnel plot compares every agency with the target: points outside the "
            "%(limit)s limits differ from the target by more than chance would explain. The "
            "target in force on the first day of the period applies; a target set for an "
            "agency comes before a target for its kind, which comes before the general one.",
            limit=percent(0.998),
        ),
    ]


# ---- Excel -----------------------------------------------------------------------------------


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="0B4F8A")
    workbook = Workbook()

    table = workbook.active
    table.title = _sheet(_("Agencies"))
    cols = columns()
    table.append([header for _k, header, _t in cols])
    for row in report.visible_rows():
        table.append([cell(row, key) for key, _h, _t in cols])
    for index, (key, header, kind) in enumerate(cols, start=1):
        letter = get_column_letter(index)
        table[f"{letter}1"].font = header_font
        table[f"{letter}1"].fill = header_fill
        table[f"{letter}1"].alignment = Alignment(wrap_text=True, vertical="top")
        fmt = {"percent": "0.0%", "int": "#,##0", "number": "0.0000"}.get(kind)
        if fmt:
            for (value_cell,) in table.iter_rows(min_row=2, min_col=index, max_col=index):
                value_cell.number_format = fmt
        width = 40 if key == "name" else max(10, min(22, len(header) + 2))
        table.column_dimensions[letter].width = width
    for offset, row in enumerate(report.visible_rows(), start=2):
        table.cell(offset, 2).alignment = Alignment(indent=min(row.depth, 10))
    table.freeze_panes = "C2"
    table.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(1, table.max_row)}"

    summary = workbook.create_sheet(_sheet(_("Summary")))
    for label, value in _summary_pairs(report):
        summary.append([label, value])
    for label_cell, value_cell in summary.iter_rows(min_row=1, max_col=2):
        label_cell.font = Font(bold=True)
        if isinstance(value_cell.value, float):
            value_cell.number_format = "0.0%"
    summary.column_dimensions["A"].width = 42
    summary.column_dimensions["B"].width = 30

    method = workbook.create_sheet(_sheet(_("Method")))
    method.append([_("Parameter"), _("Value")])
    method["A1"].font = method["B1"].font = header_font
    method["A1"].fill = method["B1"].fill = header_fill
    for label, value in parameters(report):
        method.append([label, value])
    method.append([])
    for paragraph in methods_note():
        method.append([paragraph])
        method.merge_cells(
            start_row=method.max_row, start_column=1, end_row=method.max_row, end_column=2
        )
        method.cell(method.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        method.row_dimensions[method.max_row].height = 75
    method.column_dimensions["A"].width = 40
    method.column_dimensions["B"].width = 70
    method.freeze_panes = "A2"

    workbook.properties.title = _("Citizen satisfaction report")
    workbook.properties.creator = "hailong"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return "".join(ch for ch in title if ch not in "[]:*?/\\")[:31]


def _summary_pairs(report: Report) -> list[tuple[str, object]]:
    s = report.summary
    pairs: list[tuple[str, object]] = [
        (_("Scope"), report.root_name),
        (_("Period"), report.period.label()),
        (_("Valid responses"), s.valid),
        (_("Satisfied"), s.satisfied),
        (_("Satisfaction rate"), s.rate),
        (_("Interval low"), s.low),
        (_("Interval high"), s.high),
        (_("Target"), s.target),
        (_("Verdict"), str(reporting.VERDICT_LABELS[s.verdict])),
        (_("Flagged (not counted)"), s.flagged),
        (_("Excluded (not counted)"), s.excluded),
    ]
    for verdict in reporting.VERDICTS:
        pairs.append(
            (
                _("Agencies: %(verdict)s", verdict=reporting.VERDICT_LABELS[verdict]),
                s.verdict_counts[verdict],
            )
        )
    for channel, count, share in s.channels:
        pairs.append(
            (
                _("Channel: %(channel)s", channel=reporting.CHANNEL_LABELS[channel]),
                f"{count} ({percent(share)})",
            )
        )
    return pairs


# ---- PDF -------------------------------------------------------------------------------------


def below_rows(report: Report) -> list[Row]:
    """Agencies that get a page of their own in the PDF: below target, the root excepted."""
    rows = report.visible_rows()
    return [r for r in rows if r.verdict == "below" and (r.depth > 0 or len(report.rows) == 1)]


def pdf_page_count(report: Report) -> int:
    """How many pages `to_pdf` writes (tests and the CLI's progress bar use it)."""
    rows = report.visible_rows()
    pages = 2 + max(1, math.ceil(len(rows) / PDF_ROWS_PER_PAGE))
    pages += charts.has_funnel(report) + charts.has_forest(report)
    return pages + len(below_rows(report)) + 1


def to_pdf(report: Report, progress: Progress = _noop, province: str | None = None) -> bytes:
    """The report for the Provincial People's Committee: title, summary, table, funnel and
    forest plots, a page per agency below target, and a methods note."""
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
        for row in below_rows(report):
            pdf.savefig(_agency_page(report, row))
            progress("agency")
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
            verdict=reporting.VERDICT_LABELS[s.verdict],
        ),
        _(
            "Valid responses: %(valid)s, of which satisfied: %(satisfied)s.",
            valid=_int(s.valid),
            satisfied=_int(s.satisfied),
        ),
        _(
            "Not counted: %(flagged)s flagged and %(excluded)s excluded.",
            flagged=_int(s.flagged),
            excluded=_int(s.excluded),
        ),
        "",
    ]
    for verdict in reporting.VERDICTS:
        lines.append(f"{reporting.VERDICT_LABELS[verdict]}: {s.verdict_counts[verdict]}")
    lines.append("")
    lines.append(_("Responses by channel:"))
    for channel, count, share in s.channels:
        lines.append(f"  {reporting.CHANNEL_LABELS[channel]}: {_int(count)} ({percent(share)})")
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
        (0.49, _("Responses"), "right"),
        (0.57, _("Rate"), "right"),
        (0.72, _("Interval"), "right"),
        (0.74, _("Verdict"), "left"),
    ]
    y = 0.91
    for x, label, align in headers:
        _text(fig, x, y, label, fontsize=9, weight="bold", ha=align)
    y -= 0.025
    for row in rows:
        name = ("  " * min(row.depth, 4)) + row.name
        if len(name) > 44:
            name = name[:43] + "…"
        mark = " *" if row.small_sample else ""
        cells = [
            (0.05, name, "left"),
            (0.49, _int(row.valid), "right"),
            (0.57, percent(row.rate), "right"),
            (0.72, f"{percent(row.low)}–{percent(row.high)}", "right"),
            (0.74, str(reporting.VERDICT_LABELS[row.verdict]) + mark, "left"),
        ]
        for x, value, align in cells:
            _text(fig, x, y, value, fontsize=8, ha=align)
        y -= 0.026
    _text(
        fig,
        0.05,
        0.04,
        _("* small sample: fewer than %(n)d valid responses.", n=reporting.SMALL_SAMPLE),
        fontsize=8,
        color="#444444",
    )
    return fig


def _agency_page(report: Report, row: Row) -> Figure:
    from survey.scope import subtree_ids

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
        _(
            "Valid responses: %(valid)s, of which satisfied: %(satisfied)s.",
            valid=_int(row.valid),
            satisfied=_int(row.satisfied),
        ),
        _(
            "Not counted: %(flagged)s flagged and %(excluded)s excluded.",
            flagged=_int(row.flagged),
            excluded=_int(row.excluded),
        ),
        _(
            "Previous period: %(rate)s of %(valid)s responses; change: %(change)s.",
            rate=percent(row.previous_rate),
            valid=_int(row.previous_valid),
            change=reporting.CHANGE_LABELS[row.change_verdict],
        ),
    ]
    y = 0.86
    for line in lines:
        for part in textwrap.wrap(line, 90):
            _text(fig, 0.08, y, part, fontsize=10.5)
            y -= 0.027
    ids = subtree_ids(row.id)
    from flask_babel import get_locale

    criteria = reporting.criterion_rates(
        report.period, ids, report.confidence, report.options.method, str(get_locale() or "vi")
    )
    y -= 0.02
    _text(fig, 0.08, y, _("Criteria"), fontsize=12, weight="bold")
    y -= 0.03
    for item in criteria:
        label = item.label if len(item.label) < 62 else item.label[:61] + "…"
        _text(fig, 0.08, y, label, fontsize=8.5)
        _text(fig, 0.78, y, _int(item.valid), fontsize=8.5, ha="right")
        _text(fig, 0.92, y, percent(item.rate), fontsize=8.5, ha="right")
        y -= 0.024
    desks = reporting.desk_rates(report.period, ids, report.confidence, report.options.method)
    y -= 0.02
    _text(fig, 0.08, y, _("Desks"), fontsize=12, weight="bold")
    y -= 0.03
    for item in desks[:12]:
        _text(fig, 0.08, y, f"{item.key} – {item.label}"[:70], fontsize=8.5)
        _text(fig, 0.78, y, _int(item.valid), fontsize=8.5, ha="right")
        _text(fig, 0.92, y, percent(item.rate), fontsize=8.5, ha="right")
        y -= 0.024
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


# ---- JSON ------------------------------------------------------------------------------------


def to_json(report: Report) -> dict:
    """The report as plain JSON data (the API's body, and `report --format json`)."""
    s = report.summary
    return {
        "period": {
            "key": report.period.key,
            "label": report.period.label(),
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
            "previous": report.previous.key,
        },
        "confidence": report.confidence,
        "method": report.options.method,
        "adjust": report.options.adjust,
        "target_override": report.options.target,
        "generated_at": _iso(report.generated_at),
        "summary": {
            "scope": report.root_name,
            "valid": s.valid,
            "satisfied": s.satisfied,
            "flagged": s.flagged,
            "excluded": s.excluded,
            "rate": s.rate,
            "low": s.low,
            "high": s.high,
            "target": s.target,
            "verdict": s.verdict,
            "agencies_by_verdict": s.verdict_counts,
            "channels": [
                {"channel": channel, "valid": count, "share": round(share, 6)}
                for channel, count, share in s.channels
            ],
        },
        "agencies": [row.as_dict() for row in report.visible_rows()],
    }


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"
