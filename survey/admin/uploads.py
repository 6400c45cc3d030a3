"""Web imports of the agency tree and of paper forms, and their downloadable templates.

The form posts the file normally (works without JavaScript). admin.js sends the same form
with XMLHttpRequest and the header `X-Import-Progress: 1`: it shows the upload's progress,
then the import's, which the answer streams as lines `hailong-progress DONE TOTAL` before the
result page (see `_streamed`).
"""

from __future__ import annotations

import contextvars
import io
import queue
import shutil
import tempfile
import threading

import sqlalchemy as sa
from flask import Response, current_app, render_template, request, send_file, stream_with_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from survey import dossier_counts, dossiers, imports
from survey.admin import bp
from survey.admin.forms import ImportForm, parse_id
from survey.errors import abort_with
from survey.extensions import db
from survey.models import Questionnaire
from survey.scope import user_scope

# Uploads to the import pages may be larger than other forms: 100,000 paper forms is ~15 MB
# as CSV, less as XLSX. Larger files are refused before they are read (413); what an XLSX
# expands to is checked separately (imports.check_xlsx_parts).
IMPORT_MAX_BYTES = 32 * 1024 * 1024
KINDS = {
    "agencies": (imports.import_agencies, "admin.import_agencies"),
    "paper": (imports.import_paper, "admin.import_paper"),
    "dossiers": (dossiers.import_dossiers, "admin.import_dossiers"),
    "procedures": (dossiers.import_procedures, "admin.import_procedures"),
    "counts": (dossier_counts.import_counts, "admin.import_dossier_counts"),
}
ENDPOINTS = tuple(endpoint for _importer, endpoint in KINDS.values())
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.url_value_preprocessor
def _larger_uploads_for_imports(endpoint, values):
    """Runs before the CSRF check parses the body; only administrators get the larger limit."""
    if endpoint in ENDPOINTS and request.method == "POST":
        if current_user.is_authenticated and current_user.is_admin:
            request.max_content_length = current_app.config.get(
                "IMPORT_MAX_CONTENT_LENGTH", IMPORT_MAX_BYTES
            )


def _import(kind: str):
    form = ImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        if request.headers.get(PROGRESS_HEADER) == "1":
            return _streamed(kind, form)
        upload = form.file.data
        result = _run(
            kind, upload.stream, upload.filename, form.dry_run.data, options=_options(kind)
        )
        status = 200 if result.ok else 400
    elif request.method == "POST":
        status = 400
    return _page(kind, form, result), status


def _options(kind: str) -> dict:
    """Read in the view, before the import may move to a thread of its own."""
    if kind == "paper":
        # An agency administrator's paper forms go to the desks of their subtree only; the
        # other imports are for global administrators (survey.scope.AGENCY_ADMIN_ENDPOINTS).
        return {"scope": user_scope()}
    return {"province": request.form.get("province") or None} if kind == "procedures" else {}


def _run(kind: str, stream, filename: str | None, dry_run: bool, progress=None, options=None):
    importer, _endpoint = KINDS[kind]
    result = importer(stream, dry_run=dry_run, progress=progress, **(options or {}))
    if result.written:
        imports.audit_written(kind, filename[:200] if filename else None, result)
    return result


def _page(kind: str, form: ImportForm, result: imports.ImportResult | None) -> str:
    questionnaires = list(
        db.session.scalars(
            sa.select(Questionnaire)
            .where(Questionnaire.published_at.is_not(None))
            .order_by(Questionnaire.key, Questionnaire.version)
        )
    )
    return render_template(
        "admin/import.html",
        form=form,
        kind=kind,
        result=result,
        questionnaires=questionnaires,
        provinces=dossiers.provinces() if kind == "procedures" else [],
    )


PROGRESS_HEADER = "X-Import-Progress"
SPOOL_BYTES = 16 * 1024 * 1024  # larger uploads are copied to a temporary file
PROGRESS_LINE = "hailong-progress"


def _streamed(kind: str, form: ImportForm) -> Response:
    """The import's progress as it goes (`hailong-progress DONE TOTAL` lines, bytes for CSV and
    rows for Excel), then the result page.

    The import runs on a thread of its own, in a copy of this request's context (the same
    session), and hands its progress over through a queue; the response only writes. The
    status is 200 even when the file has errors: it is sent before they are known, and the
    page says what happened. Without JavaScript the form posts normally and gets 400 then.
    """
    events: queue.SimpleQueue = queue.SimpleQueue()
    # The request's own copy of the upload is closed when the view returns, before the
    # response is streamed (Flask 3.1): the import reads a copy of its own.
    upload = form.file.data
    copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed in work()
    shutil.copyfileobj(upload.stream, copy)
    filename, dry_run, options = upload.filename, form.dry_run.data, _options(kind)

    def work() -> None:
        try:
            with copy:
                progress = lambda done, total: events.put((done, total))  # noqa: E731
                events.put(_run(kind, copy, filename, dry_run, progress, options))
        except BaseException as error:  # noqa: BLE001 - re-raised on the responding side
            events.put(error)

    @stream_with_context
    def body():
        worker = threading.Thread(target=contextvars.copy_context().run, args=(work,))
        worker.start()
        try:
            while True:
                event = events.get()
                if isinstance(event, tuple):
                    done, total = event
                    yield f"{PROGRESS_LINE} {done} {total or ''}\n"
                    continue
                worker.join()
                if isinstance(event, BaseException):
                    raise event
                yield _page(kind, form, event)
                return
        finally:
            # Also when the browser goes away: the import finishes (or rolls back) before
            # the request's context, and with it the session, is closed.
            worker.join()

    response = Response(body(), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass the lines on as they come
    return response


@bp.route("/imports/agencies", methods=["GET", "POST"])
def import_agencies():
    return _import("agencies")


@bp.route("/imports/paper", methods=["GET", "POST"])
def import_paper():
    return _import("paper")


@bp.route("/imports/dossiers", methods=["GET", "POST"])
def import_dossiers():
    return _import("dossiers")


@bp.route("/imports/procedures", methods=["GET", "POST"])
def import_procedures():
    return _import("procedures")


@bp.route("/imports/dossier-counts", methods=["GET", "POST"])
def import_dossier_counts():
    return _import("counts")


@bp.route("/imports/<any(agencies, paper, dossiers, procedures, counts):kind>/template.<fmt>")
def import_template(kind: str, fmt: str):
    if fmt not in MIMETYPES:
        abort_with(404, _("Templates come as .csv or .xlsx."))
    if kind == "agencies":
        data = imports.write_table(fmt, imports.AGENCY_HEADER, [], sheet=_("Agencies"))
        name = f"agencies-template.{fmt}"
    elif kind == "dossiers":
        data = imports.write_table(fmt, dossiers.DOSSIER_HEADER, [], sheet=_("Dossiers"))
        name = f"dossiers-template.{fmt}"
    elif kind == "procedures":
        data = imports.write_table(fmt, dossiers.PROCEDURE_HEADER, [], sheet=_("Procedures"))
        name = f"procedures-template.{fmt}"
    elif kind == "counts":
        data = imports.write_table(fmt, dossier_counts.HEADER, [], sheet=_("Dossiers handled"))
        name = f"dossier-counts-template.{fmt}"
    else:
        questionnaire_id = parse_id(request.args.get("questionnaire"))
        questionnaire = (
            db.session.get(Questionnaire, questionnaire_id)
            if questionnaire_id is not None
            else Questionnaire.default()
        )
        if questionnaire is None:
            abort_with(404, _("This questionnaire does not exist."))
        # Headed in the reader's language: Vietnamese headings, or the English codes.
        data = imports.paper_template(fmt, questionnaire, str(get_locale()) != "en")
        name = f"paper-forms-{questionnaire.key}-v{questionnaire.version}.{fmt}"
    return send_file(
        io.BytesIO(data), mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name
    )
