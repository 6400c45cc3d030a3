"""Web imports of the agency tree and of paper forms, and their downloadable templates.

The form posts the file normally (works without JavaScript); admin.js sends the same form
with XMLHttpRequest to show an upload progress bar, then shows the result page it gets back.
"""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import current_app, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from survey import imports
from survey.admin import bp
from survey.admin.forms import ImportForm, parse_id
from survey.audit import audit
from survey.errors import abort_with
from survey.extensions import db
from survey.models import Questionnaire

# Uploads to the import pages may be larger than other forms (100,000 paper forms is ~15 MB).
IMPORT_MAX_BYTES = 128 * 1024 * 1024
KINDS = {
    "agencies": (imports.import_agencies, "admin.import_agencies"),
    "paper": (imports.import_paper, "admin.import_paper"),
}
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.url_value_preprocessor
def _larger_uploads_for_imports(endpoint, values):
    """Runs before the CSRF check parses the body; only administrators get the larger limit."""
    if endpoint in ("admin.import_agencies", "admin.import_paper") and request.method == "POST":
        if current_user.is_authenticated and current_user.is_admin:
            request.max_content_length = current_app.config.get(
                "IMPORT_MAX_CONTENT_LENGTH", IMPORT_MAX_BYTES
            )


def _import(kind: str):
    form = ImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        importer, _endpoint = KINDS[kind]
        upload = form.file.data
        result = importer(upload.stream, dry_run=form.dry_run.data)
        if result.written:
            audit(
                f"import.{kind}",
                target=upload.filename[:200] if upload.filename else None,
                rows=result.rows,
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
            )
            db.session.commit()
        status = 200 if result.ok else 400
    elif request.method == "POST":
        status = 400
    questionnaires = list(
        db.session.scalars(
            sa.select(Questionnaire)
            .where(Questionnaire.published_at.is_not(None))
            .order_by(Questionnaire.key, Questionnaire.version)
        )
    )
    return (
        render_template(
            "admin/import.html", form=form, kind=kind, result=result, questionnaires=questionnaires
        ),
        status,
    )


@bp.route("/imports/agencies", methods=["GET", "POST"])
def import_agencies():
    return _import("agencies")


@bp.route("/imports/paper", methods=["GET", "POST"])
def import_paper():
    return _import("paper")


@bp.route("/imports/<any(agencies, paper):kind>/template.<fmt>")
def import_template(kind: str, fmt: str):
    if fmt not in MIMETYPES:
        abort_with(404, _("Templates come as .csv or .xlsx."))
    if kind == "agencies":
        data = imports.write_table(fmt, imports.AGENCY_HEADER, [], sheet=_("Agencies"))
        name = f"agencies-template.{fmt}"
    else:
        questionnaire_id = parse_id(request.args.get("questionnaire"))
        questionnaire = (
            db.session.get(Questionnaire, questionnaire_id)
            if questionnaire_id is not None
            else Questionnaire.default()
        )
        if questionnaire is None:
            abort_with(404, _("This questionnaire does not exist."))
        data = imports.paper_template(fmt, questionnaire)
        name = f"paper-forms-{questionnaire.key}-v{questionnaire.version}.{fmt}"
    return send_file(
        io.BytesIO(data), mimetype=MIMETYPES[fmt], as_attachment=True, download_name=name
    )
