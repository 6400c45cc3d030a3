"""`flask --app wsgi report`: the dashboard's reports as files, for scripts and cron jobs."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from survey import periods, replica, reporting
from survey.audit import audit
from survey.extensions import db
from survey.reporting import exports, labels


@click.command("report")
@click.option(
    "--period",
    required=True,
    help="2026-Q3, 2026-07, 2026-H1, 2026-9M, 2026 or 2026-07-01..2026-09-30.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "pdf", "json", "docx"]), required=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="File to write ('-' for standard output, csv and json only).",
)
@click.option("--agency", "agency_code", help="Report on this agency's subtree only (code).")
@click.option(
    "--calendar",
    type=click.Choice(["calendar", "regime"]),
    default=None,
    help="Calendar periods, or the reporting regime's (15th of the month before to the 14th; "
    "default: REPORT_CALENDAR).",
)
@click.option(
    "--history",
    type=click.Choice(["own", "combined"]),
    default="own",
    show_default=True,
    help="combined: compare an agency that others were merged into over their combined history.",
)
@click.option(
    "--confidence", type=click.Choice(["90", "95", "99"]), default="95", show_default=True
)
@click.option(
    "--method", type=click.Choice(list(labels.METHODS)), default="wilson", show_default=True
)
@click.option(
    "--adjust", type=click.Choice(list(labels.ADJUSTMENTS)), default="none", show_default=True
)
@click.option(
    "--deff",
    type=click.Choice(list(labels.DESIGN_EFFECTS)),
    default="estimated",
    show_default=True,
    help="Design effect of desk-day clusters (none: every rating independent).",
)
@click.option("--target", help="What-if target in percent (default: the target table).")
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Language of the texts.",
)
@with_appcontext
def report(
    period, fmt, out, agency_code, calendar, history, confidence, method, adjust, deff, target, lang
):
    """Write the satisfaction report for PERIOD as CSV, Excel, PDF, JSON or DOCX.

    DOCX is the official document (Decree 30/2020/NĐ-CP) to edit before signing; the PDF is
    the same document, printed by LibreOffice.

    Example: flask --app wsgi report --period 2026-Q3 --format pdf --out q3.pdf
    """
    if str(out) == "-" and fmt not in ("csv", "json"):
        raise click.BadParameter("only csv and json can go to standard output", param_hint="--out")
    args = {
        "period": period,
        "confidence": confidence,
        "method": method,
        "adjust": adjust,
        "deff": deff,
        "history": history,
    }
    if target:
        args["target"] = target
    if agency_code:
        args["agency"] = agency_code
    if calendar:
        args["calendar"] = calendar
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    with current_app.test_request_context("/", base_url=base, query_string={"lang": lang}):
        replica.read_reports()
        try:
            options = reporting.parse_options(args, periods.last_closed_quarter())
        except reporting.OptionError as error:
            raise click.BadParameter(error.message, param_hint=f"--{error.field}") from None
        try:
            result = reporting.report_for(options, None)
        except reporting.OptionError:
            raise click.BadParameter(
                f"no agency has the code {agency_code}", param_hint="--agency"
            ) from None
        if fmt in ("pdf", "docx"):
            steps = exports.progress_steps(result, fmt)
            label = "Writing the PDF" if fmt == "pdf" else "Writing the DOCX"
            with click.progressbar(length=steps, label=label, file=sys.stderr) as bar:
                body = exports.export(result, fmt, progress=lambda _step: bar.update(1))
        else:
            body = exports.export(result, fmt)
        audit(
            "report.export",
            target=result.period.key,
            format=fmt,
            agency=agency_code,
            via="cli",
            rows=len(result.rows),
        )
        db.session.commit()
    if str(out) == "-":
        click.get_binary_stream("stdout").write(body)
        return
    out.write_bytes(body)
    click.echo(
        f"Wrote {out} ({len(body):,} bytes, {len(result.rows)} agencies, {result.period.key}).",
        err=True,
    )


commands = (report,)
