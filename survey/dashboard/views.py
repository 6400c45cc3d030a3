"""Dashboard pages, charts and exports: a thin layer over `survey.reporting`. Every route
needs a staff sign-in and checks the agency scope: an analyst limited to a subtree sees nothing
outside it."""

from __future__ import annotations

from dataclasses import replace

from flask import Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from survey import periods, reporting
from survey.audit import audit
from survey.auth.decorators import staff_required
from survey.dashboard import bp
from survey.dashboard.forms import CommentSearchForm, ReportForm
from survey.errors import abort_with
from survey.extensions import db
from survey.followup.service import checks_table, followup_check
from survey.reporting import (
    charts,
    detail,
    dossier_splits,
    exports,
    formatting,
    html,
    labels,
    mergers,
    official,
)
from survey.reporting.options import OptionError, ReportOptions
from survey.scope import user_scope

CHARTS = ("funnel", "forest")
CHART_FORMATS = ("png", "svg", "csv")
MAX_COMMENT_PAGE = 1000
# matplotlib's SVG styles its shapes inline; the image has no scripts, so allow only that.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@bp.context_processor
def helpers() -> dict:
    return {"fmt": formatting, "labels": labels, "present": html, "official": official}


def _options() -> ReportOptions:
    try:
        return reporting.parse_options(request.args, periods.last_closed_quarter())
    except OptionError as error:
        abort_with(error.status, error.message)


def _report(options: ReportOptions) -> reporting.Report:
    try:
        return reporting.report_for(options, user_scope())
    except OptionError as error:
        abort_with(error.status, error.message)


def _agency_report(code: str, options: ReportOptions) -> tuple[ReportOptions, reporting.Report]:
    """The report rooted at the agency `code` of the page's path."""
    options = replace(options, agency=code)
    return options, _report(options)


def _period_links(options: ReportOptions) -> list[tuple[str, str]]:
    today = periods.local_today()
    this_quarter = periods.quarter_of(today)
    this_month = periods.month(today.year, today.month)
    choices = [
        (periods.last_closed_quarter(today), _("Last quarter")),
        (this_quarter, _("This quarter")),
        (this_month.previous(), _("Last month")),
        (this_month, _("This month")),
        (periods.half(today.year, 1 if today.month < 7 else 2), _("This half-year")),
        (periods.year(today.year), _("This year")),
    ]
    if "code" in request.view_args:  # an agency page: the agency is in the path
        options = replace(options, agency=None)
    return [
        (label, url_for(request.endpoint, **request.view_args, **options.query(period=p)))
        for p, label in choices
    ]


@bp.route("/")
@bp.route("")  # registered first, so url_for gives /dashboard
@staff_required
def index():
    return _dashboard(*_options_or_errors())


def _form(options: ReportOptions, errors: dict[str, str]) -> ReportForm:
    form = ReportForm(options)
    for name, message in errors.items():
        # Show what was typed, with its message, in the form itself.
        form[name].data = request.args.get(name, "")
        form[name].errors = [message]
    return form


def _dashboard(options: ReportOptions, errors: dict[str, str]):
    report = _report(options)
    form = _form(options, errors)
    page = render_template(
        "dashboard/index.html",
        report=report,
        table=html.table_rows(report.visible_rows(), options),
        columns=html.TABLE_COLUMNS,
        options=options,
        form=form,
        period_links=_period_links(options),
        overdispersion=reporting.overdispersion(report),
        has_funnel=charts.has_funnel(report),
        has_forest=charts.has_forest(report),
        forest_total=charts.forest_units(report)[1],
        max_forest=charts.MAX_FOREST,
        sort_url=lambda key: _sort_url(options, key),
    )
    return page, 400 if errors else 200


def _options_or_errors() -> tuple[ReportOptions, dict[str, str]]:
    """The report options, and the form's fields that could not be used, with their messages:
    those fall back to their defaults so that the page and its form still show. Anything else
    wrong (a value no field of the form holds) is the plain 400 page."""
    args = request.args.to_dict()
    errors: dict[str, str] = {}
    while True:
        try:
            return reporting.parse_options(args, periods.last_closed_quarter()), errors
        except OptionError as error:
            visible = error.field in args and error.field in ReportForm.VISIBLE
            if error.status != 400 or not visible or error.field in errors:
                abort_with(error.status, error.message)
            errors[error.field] = error.message
            del args[error.field]


def _sort_url(options: ReportOptions, key: str) -> str:
    descending = options.sort == key and not options.descending
    if key == "tree":
        descending = False
    return url_for("dashboard.index", **options.query(sort=key, descending=descending))


@bp.route("/agency/<code>")
@staff_required
def agency(code: str):
    options, errors = _options_or_errors()
    options, report = _agency_report(code, options)
    row = report.rows[0]
    unit = _trend_unit(options)
    search = CommentSearchForm(formdata=None, data={"q": request.args.get("q", "")})
    query = (request.args.get("q") or "").strip()
    if len(query) > detail.MAX_SEARCH:
        abort_with(
            400,
            _("The search text is too long (at most %(n)d characters).", n=detail.MAX_SEARCH),
        )
    page = _page_number()
    ids = mergers.period_subtree(row.id, options.period)
    comments, more = detail.comments(options.period, ids, query or None, page)
    history = options.history
    about = detail.agency_detail(report, row, unit, str(get_locale()), history)
    splits = _dossier_splits(row, ids, options)
    followup = followup_check(options.period, set(ids), options.level_of_confidence)
    heat = about.heatmap
    return render_template(
        "dashboard/agency.html",
        report=report,
        row=row,
        children=report.visible_rows()[1:]
        if options.sort == "tree"
        else [r for r in report.visible_rows() if r.id != row.id],
        options=options,
        form=_form(options, errors),
        period_links=_period_links(options),
        trend_unit=unit,
        trend=charts.trend_rows(report, about.trend_buckets, about.trend_counts),
        predecessors=about.predecessors,
        history=about.history,
        sections=about.sections,
        levels=about.levels,
        heatmap=heat,
        heat_class=lambda n: _heat_class(n, heat.peak),
        search=search,
        query=query,
        comments=comments,
        page=page,
        more=more,
        splits=splits,
        followup=followup,
    ), (400 if errors else 200)


def _trend_unit(options: ReportOptions) -> str:
    unit = request.args.get("trend") or (
        "quarter"
        if options.period.kind in ("half", "year") or options.period.days > 190
        else "month"
    )
    if unit not in detail.TREND_UNITS:
        abort_with(400, _("The trend unit must be month or quarter."))
    return unit


def _page_number() -> int:
    raw = request.args.get("page") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COMMENT_PAGE:
        abort_with(
            400, _("The page number must be a whole number from 1 to %(n)d.", n=MAX_COMMENT_PAGE)
        )
    return int(raw)


def _heat_class(count: int, peak: int) -> str:
    if count == 0 or peak == 0:
        return "heat-0"
    return f"heat-{min(4, 1 + int(4 * count / (peak + 1)))}"


@bp.route("/charts/<name>.<fmt>")
@staff_required
def chart(name: str, fmt: str):
    if name not in CHARTS or fmt not in CHART_FORMATS:
        abort_with(404, _("There is no such chart."))
    report = _report(_options())
    if fmt == "csv":
        rows = charts.funnel_rows(report) if name == "funnel" else charts.forest_rows(report)
        return _download(exports.rows_to_csv(rows), "csv", f"{name}-{report.period.key}.csv")
    figure = charts.funnel_figure(report) if name == "funnel" else charts.forest_figure(report)
    return _figure(figure, fmt)


@bp.route("/agency/<code>/trend.<fmt>")
@staff_required
def trend(code: str, fmt: str):
    if fmt not in CHART_FORMATS:
        abort_with(404, _("There is no such chart."))
    options, report = _agency_report(code, _options())
    row = report.rows[0]
    ids = (
        mergers.history_ids(row.id)
        if options.history == "combined"
        else mergers.period_subtree(row.id, options.period)
    )
    buckets, counts = detail.trend_data(options.period, _trend_unit(options), ids)
    if fmt == "csv":
        rows = charts.trend_rows(report, buckets, counts)
        return _download(
            exports.rows_to_csv(rows), "csv", f"trend-{row.code}-{options.period.key}.csv"
        )
    return _figure(charts.trend_figure(report, buckets, counts, row.name), fmt)


def _figure(figure, fmt: str) -> Response:
    if figure is None:
        abort_with(404, _("There is nothing to draw for this period."))
    response = Response(
        charts.render(figure, fmt), mimetype="image/png" if fmt == "png" else "image/svg+xml"
    )
    response.headers["Cache-Control"] = "private, max-age=300"
    if fmt == "svg":
        response.headers["Content-Security-Policy"] = SVG_CSP
    return response


def _download(body: bytes, fmt: str, name: str) -> Response:
    response = Response(body, content_type=exports.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/export.<fmt>")
@staff_required
def export(fmt: str):
    if fmt not in exports.FORMATS:
        abort_with(404, _("Exports are available as CSV, Excel (xlsx), PDF, JSON and Word (docx)."))
    options, errors = _options_or_errors()
    if errors:
        # A download link with a wrong period (typed into the address, or an old bookmark):
        # the dashboard of the same view, which shows the message in its form.
        return redirect(url_for("dashboard.index", **request.args), 303)
    report = _report(options)
    body = exports.export(report, fmt)
    audit(
        "report.export",
        target=report.period.key,
        format=fmt,
        agency=options.agency,
        query=options.query(),
        rows=len(report.visible_rows()),
    )
    db.session.commit()
    return _download(body, fmt, exports.filename(report, fmt))


# ---- splits by dossier: on time vs late, procedures, response rates ----------------


def _dossier_splits(row, ids, options: ReportOptions):
    before = request.args.get("before_return") or "include"
    if before not in dossier_splits.BEFORE_RETURN:
        abort_with(
            400,
            _(
                "Unknown value for %(name)s. Allowed: %(values)s.",
                name="before_return",
                values=", ".join(dossier_splits.BEFORE_RETURN),
            ),
        )
    return dossier_splits.dossier_splits(
        row.id,
        ids,
        options.period,
        options.level_of_confidence,
        before,
        str(get_locale()),
    )


@bp.route("/agency/<code>/splits.csv")
@staff_required
def splits_export(code: str):
    """The agency page's splits by language and by kiosk mode, as CSV."""
    report = _agency_report(code, _options())[1]
    splits = detail.report_audience_splits(report)
    return _agency_csv(report, code, "splits", detail.splits_csv(splits))


@bp.route("/agency/<code>/dossiers.csv")
@staff_required
def dossiers_export(code: str):
    options, report = _agency_report(code, _options())
    row = report.rows[0]
    splits = _dossier_splits(row, mergers.period_subtree(row.id, options.period), options)
    return _agency_csv(report, code, "dossiers", dossier_splits.to_csv(splits))


@bp.route("/agency/<code>/followup.csv")
@staff_required
def followup_export(code: str):
    """The follow-up check of the agency's subtree: the latest draw of the period."""
    options, report = _agency_report(code, _options())
    row = report.rows[0]
    found = followup_check(
        options.period, mergers.period_subtree(row.id, options.period), options.level_of_confidence
    )
    return _agency_csv(report, code, "followup", checks_table(found.agencies if found else []))


def _agency_csv(report, code: str, kind: str, body: bytes) -> Response:
    """One of the agency page's CSV files, audited as an export of the report."""
    audit("report.export", target=report.period.key, format=f"{kind}.csv", agency=code)
    db.session.commit()
    return _download(body, "csv", f"hailong-{kind}-{code}-{report.period.key}.csv")
