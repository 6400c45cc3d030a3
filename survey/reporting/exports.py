"""Reports as files: CSV (UTF-8 with BOM), Excel, PDF and JSON, from one finished `Report`.

The same renderers serve the dashboard's downloads, the `report` command and the API, so every
channel shows the same numbers. Texts follow the current locale (Vietnamese by default).
Renderers never query the database: `export()` first attaches what a format needs (the PDF's
agency pages) with `survey.reporting.detail.with_details`, then renders.

One cohesive thing, the report's files side by side (CSV, Excel, JSON and the methods
note they share), hence over 400 lines.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _

from survey import periods
from survey.periods import to_local
from survey.reporting import labels
from survey.reporting.columns import file_columns, json_row
from survey.reporting.formatting import day, number, percent
from survey.reporting.official import (
    ADMINISTRATIVE_LABELS,
    ADMINISTRATIVE_VERDICTS,
    CLASS_LABELS,
    shares,
)
from survey.reporting.table import Report
from survey.spreadsheets import csv_bytes, xlsx_append

FORMATS = ("csv", "xlsx", "pdf", "json", "docx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

Progress = Callable[[str], None]


def _noop(_step: str) -> None:
    return None


def export(report: Report, fmt: str, progress: Progress = _noop) -> bytes:
    """`report` as a file in `fmt` (one of `FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    report = prepare(report, fmt)
    if fmt == "docx":
        from survey.reporting import document

        return document.to_docx(report, progress)
    if fmt == "pdf" and official_pdf():
        # The official document (the DOCX, printed by LibreOffice).
        import logging

        from survey.reporting import document

        try:
            return document.to_pdf(report, progress)
        except (document.ConversionError, OSError, TimeoutError) as error:
            logging.getLogger(__name__).warning("LibreOffice could not print: %s", error)
    if fmt == "pdf":
        # Without LibreOffice (or if it failed): the analytic report drawn by matplotlib.
        from survey.reporting import detail, pdf

        rows = pdf.agency_page_rows(report)
        report = detail.with_details(report, rows, _reader_locale())
        report = detail.with_dossiers(report, _reader_locale(), rows)
        return pdf.to_pdf(report, progress)
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "csv":
        return to_csv(report)
    import json

    return json.dumps(to_json(report), ensure_ascii=False, indent=1).encode() + b"\n"


def _reader_locale() -> str:
    """The reader's language code, for the sections a file attaches before rendering."""
    return str(get_locale() or "vi")


def prepare(report: Report, fmt: str) -> Report:
    """`report` with what `fmt` shows besides the agency table attached, so that its renderer
    never queries: the follow-up check (every format but CSV: the agency page offers the
    check as a CSV of its own), the dossier splits of the visible rows (Excel and the
    official document) and the comment themes (the official document, DOCX or PDF). The
    analytic PDF attaches its agency pages' sections and splits itself (`export`)."""
    from survey.reporting import detail

    official = fmt == "docx" or (fmt == "pdf" and official_pdf())
    if fmt != "csv":
        report = detail.with_followup(report)
    if fmt == "xlsx" or official:
        # The official document is Vietnamese, whatever the reader's language.
        report = detail.with_dossiers(report, "vi" if official else _reader_locale())
    if official:
        report = detail.with_themes(report)
    return report


def official_pdf() -> bool:
    """Whether the PDF is the official document: LibreOffice is installed and the setting
    `REPORT_PDF` is "document" (the default; "analysis" gives the matplotlib report)."""
    from flask import current_app

    from survey.reporting import document

    wanted = current_app.config.get("REPORT_PDF", "document") == "document"
    return wanted and document.soffice() is not None


def progress_steps(report: Report, fmt: str) -> int:
    """How many times `export` calls `progress` for `fmt`."""
    from survey.reporting import document, pdf

    if fmt == "docx":
        return document.STEPS
    if fmt == "pdf":
        if official_pdf():
            return document.STEPS + 1
        from survey.reporting import detail

        report = detail.with_followup(report)
        rows = pdf.agency_page_rows(report)
        return pdf.pdf_page_count(detail.with_dossiers(report, _reader_locale(), rows))
    return 0


def filename(report: Report, fmt: str) -> str:
    scope = report.options.agency or "all"
    key = report.period.key.replace("..", "_")
    return f"hailong-{key}-{scope}.{fmt}"


# ---- CSV -------------------------------------------------------------------------------------


def to_csv(report: Report) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows Vietnamese letters correctly.

    Rates are fractions (0.912345) with a dot, as data; use the Excel file for formatting."""
    cols = file_columns(report.scale)
    body = (
        ["" if (v := c.cell(row)) is None else v for c in cols] for row in report.visible_rows()
    )
    return csv_bytes([[str(c.header) for c in cols], *body])


def rows_to_csv(rows: list[dict]) -> bytes:
    """Chart data as CSV (UTF-8 with BOM)."""
    if not rows:
        return csv_bytes([])
    return csv_bytes(
        [rows[0].keys(), *(["" if v is None else v for v in row.values()] for row in rows)]
    )


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
            f"{report.period.label()} ({day(report.period.start)}–{day(report.period.end)})",
        ),
        *(
            [(_("Period not ended"), note)]
            if (note := labels.open_period_note(report.period, periods.local_today()))
            else []
        ),
        (_("Compared with"), report.previous.label()),
        (_("Target"), target),
        (_("Confidence level"), f"{options.confidence}%"),
        (_("Estimation interval method"), str(labels.METHOD_LABELS[options.method])),
        (
            _("Multiplicity adjustment"),
            labels.adjustment_note(options.adjust, report.families)
            or str(labels.ADJUST_LABELS[options.adjust]),
        ),
        (_("Ratings at one desk on one day"), str(labels.DEFF_LABELS[options.deff])),
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
            "An agency meets the target when an exact binomial test shows, at the 2.5%% level, "
            "that its rate is above the target; it is below the target when the opposite test "
            "shows it is below; otherwise there is not enough evidence yet, and the report "
            "estimates how many more responses would settle it if the current rate held. The "
            "interval beside a verdict is the exact (Clopper-Pearson) interval that matches "
            "these tests, so it never contradicts the verdict; the chosen interval method "
            "(Wilson by default) gives the estimation interval columns. When the true rate "
            "equals the target, a false verdict either way happens at most 2.5%% of the time, "
            "for any number of responses."
        ),
        _(
            "A parent agency pools the responses of its whole subtree. The forest plot shows "
            "the table's rows (pooled rows as squares); the funnel plot shows the reporting "
            "units only, so that no response is counted twice. The change from the previous "
            "period uses Newcombe's hybrid score interval for a difference."
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
    cols = file_columns(report.scale)
    xlsx_append(table, [str(c.header) for c in cols])
    for row in report.visible_rows():
        xlsx_append(table, [c.cell(row) for c in cols])
    for index, column in enumerate(cols, start=1):
        key, header, kind = column.key, str(column.header), column.kind
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
        xlsx_append(summary, [label, value])
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
        xlsx_append(method, [label, value])
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

    _followup_sheet(workbook, report, header_font, header_fill)
    _dossier_sheet(workbook, report, header_font, header_fill)

    workbook.properties.title = _("Citizen satisfaction report")
    workbook.properties.creator = "hailong"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _followup_sheet(workbook, report: Report, header_font, header_fill) -> None:
    """The follow-up check (`report.followup`): one row per sampled agency, the columns of
    the follow-up CSV, then the draw it rests on and the test."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    from survey.followup.service import CHECKS_HEADER, CHECKS_LABELS, CHECKS_PERCENT, check_cells

    sheet = workbook.create_sheet(_sheet(_("Follow-up")))
    found = report.followup
    if found is None:
        sheet.append([followup_absent_note()])
        sheet.column_dimensions["A"].width = 100
        return
    xlsx_append(sheet, [str(CHECKS_LABELS[key]) for key in CHECKS_HEADER])
    flag = CHECKS_HEADER.index("differs_beyond_chance")
    for check in found.agencies:
        cells = check_cells(check)
        cells[flag] = "" if check.differs is None else (_("yes") if check.differs else _("no"))
        xlsx_append(sheet, [round(v, 6) if isinstance(v, float) else v for v in cells])
    for index, key in enumerate(CHECKS_HEADER, start=1):
        letter = get_column_letter(index)
        head = sheet[f"{letter}1"]
        head.font, head.fill = header_font, header_fill
        head.alignment = Alignment(wrap_text=True, vertical="top")
        if key in CHECKS_PERCENT:
            for (value_cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                value_cell.number_format = "0.0%"
        sheet.column_dimensions[letter].width = 40 if key == "agency" else 14
    sheet.row_dimensions[1].height = 45
    sheet.freeze_panes = "C2"
    sheet.append([])
    for line in followup_notes(report):
        sheet.append([line])


def _dossier_sheet(workbook, report: Report, header_font, header_fill) -> None:
    """The dossier splits of every visible agency (`report.dossiers`): the agency, then the
    columns of the agency page's dossiers CSV, agency after agency in the table's order."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    from survey.reporting import dossier_splits

    found = report.dossiers
    if not found:
        return
    sheet = workbook.create_sheet(_sheet(_("By dossier")))
    xlsx_append(sheet, dossier_splits.header(agency=True))
    for row in report.visible_rows():
        if row.code not in found:
            continue
        for line in dossier_splits.rows(found[row.code]):
            xlsx_append(sheet, [row.code, row.name, *dossier_splits.cells(line)])
    keys = ("agency_code", "agency", *dossier_splits.COLUMNS)
    widths = {"agency": 34, "split": 30, "name": 40, "field": 18}
    for index, key in enumerate(keys, start=1):
        letter = get_column_letter(index)
        head = sheet[f"{letter}1"]
        head.font, head.fill = header_font, header_fill
        head.alignment = Alignment(wrap_text=True, vertical="top")
        if key in dossier_splits.PERCENT_COLUMNS:
            for (value_cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                value_cell.number_format = "0.0%"
        elif key in ("base", "counted"):
            for (value_cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                value_cell.number_format = "#,##0"
        sheet.column_dimensions[letter].width = widths.get(key, 13)
    sheet.row_dimensions[1].height = 45
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{max(1, sheet.max_row)}"


def followup_absent_note() -> str:
    return _(
        "No follow-up sample was drawn for this period: nothing checks these self-selected "
        "ratings yet."
    )


def followup_notes(report: Report) -> list[str]:
    """What the follow-up check (`report.followup`) rests on and how it decides, for Excel and
    the PDF."""
    found = report.followup
    return [
        _(
            "Follow-up draw #%(id)d of %(period)s (seed %(seed)s): dossiers drawn at random "
            "among those returned, stratified by agency, and called back.",
            id=found.draw,
            period=report.period.label(),
            seed=found.seed,
        ),
        _(
            "The follow-up estimate comes from a probability sample; the self-selected "
            "estimate from the citizens who chose to rate. They differ beyond chance when "
            "the %(level)s Newcombe interval of their difference excludes 0: the self-selected "
            "rate is then likely biased by who chose to answer.",
            level=percent(found.confidence, 0),
        ),
    ]


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
        (_("Verdict"), str(labels.VERDICT_LABELS[s.verdict])),
        (
            _("Administrative verdict (rate against target)"),
            str(ADMINISTRATIVE_LABELS[s.administrative_verdict])
            if s.administrative_verdict
            else "–",
        ),
        (_("Summary basis"), str(labels.SUMMARY_BASIS_LABELS[s.basis])),
        (_("Flagged (not counted)"), s.flagged),
        (_("Excluded (not counted)"), s.excluded),
        (_("Tickets issued"), s.tickets_issued),
        (_("Tickets used"), s.tickets_used),
        (_("Dossiers handled (reported)"), s.dossiers_handled),
        (_("Response rate"), s.response_rate),
        (
            _(
                "Response rate below the warning level (%(level)s)",
                level=percent(report.response_warning, 0),
            ),
            _("yes") if s.low_response_rate else _("no"),
        ),
        (_("Ratings without a denominator (QR code, kiosk, paper)"), s.no_denominator),
    ]
    for verdict in labels.VERDICTS:
        pairs.append(
            (
                _("Reporting units: %(verdict)s", verdict=labels.VERDICT_LABELS[verdict]),
                s.verdict_counts[verdict],
            )
        )
    level_shares = shares(s.levels)
    for code, label in report.scale.levels:
        pairs.append((_("%(level)s: responses", level=label), s.levels.get(code, 0)))
        pairs.append((_("%(level)s: share", level=label), level_shares.get(code)))
    if s.points is not None and s.points.total is not None:
        pairs += [
            (
                _("Indicator score (of %(max)s)", max=format(s.points.maximum, "g")),
                number(s.points.total, 2),
            ),
            (_("Score interval low"), number(s.points.low, 2)),
            (_("Score interval high"), number(s.points.high, 2)),
            (_("Score class"), str(CLASS_LABELS[s.points.cls])),
        ]
    for channel, count, share in s.channels:
        pairs.append(
            (
                _("Channel: %(channel)s", channel=labels.CHANNEL_LABELS[channel]),
                f"{count} ({percent(share)})",
            )
        )
    return pairs


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
        "deff": report.options.deff,
        "target_override": report.options.target,
        "families": report.families,
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
            "basis": s.basis,
            "responses_needed": s.responses_needed,
            "response_rate": {
                "tickets_issued": s.tickets_issued,
                "tickets_used": s.tickets_used,
                "dossiers_handled": s.dossiers_handled,
                "answered": s.response_answered,
                "out_of": s.response_base,
                "rate": s.response_rate,
                "warning_below": report.response_warning,
                "low": s.low_response_rate,
                "without_denominator": s.no_denominator,
            },
            "agencies_by_verdict": s.verdict_counts,
            "channels": [
                {"channel": channel, "valid": count, "share": round(share, 6)}
                for channel, count, share in s.channels
            ],
            "levels": dict(s.levels),
            "level_shares": {
                k: (None if v is None else round(v, 6)) for k, v in shares(s.levels).items()
            },
            "points": s.points.as_json() if s.points is not None else None,
            "administrative_verdict": s.administrative_verdict,
            "agencies_by_administrative_verdict": {
                v: sum(
                    1
                    for r in report.rows
                    if (r.depth > 0 or len(report.rows) == 1) and r.administrative_verdict == v
                )
                for v in ADMINISTRATIVE_VERDICTS
            },
        },
        "agencies": [json_row(row) for row in report.visible_rows()],
        "followup": report.followup.to_json() if report.followup is not None else None,
    }


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"
