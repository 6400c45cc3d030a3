"""The review queue of flagged responses, scoped to the analyst's agency subtree."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from survey.audit import audit
from survey.auth.decorators import reviewer_required
from survey.cases import service as cases
from survey.collation import sort_key
from survey.errors import abort_with
from survey.extensions import db
from survey.integrity import RULES, explain
from survey.models import Agency, AuditLog, Desk, Response, Status
from survey.periods import local_midnight_utc
from survey.reporting.labels import CHANNEL_LABELS, STATUS_LABELS
from survey.review import bp
from survey.review.forms import BulkDecisionForm, DecisionForm, QueueFilterForm
from survey.review.queue import flagged, flagged_count
from survey.scope import subtree_ids, user_scope

PAGE_SIZE = 50


@bp.app_template_global()
def review_labels() -> dict:
    """The reports' labels of channels and statuses (their keys are also the plain values)."""
    return {"channels": CHANNEL_LABELS, "statuses": STATUS_LABELS}


SHORT_REASONS = {
    "client_burst": _l("Burst from one connection"),
    "kiosk_burst": _l("Burst from one kiosk"),
    "desk_surge": _l("Surge at the desk"),
    "repeat_browser": _l("Same browser again"),
}


def _filter_form(scope: set[int] | None) -> QueueFilterForm:
    """The filters, with the desks that have flagged ratings in `scope` as choices."""
    desks = db.session.execute(
        sa.select(Desk.code, Desk.name, Agency.name.label("agency"))
        .join(Agency, Desk.agency_id == Agency.id)
        .where(Desk.id.in_(flagged(scope).with_only_columns(Response.desk_id).distinct()))
    )
    desks = sorted(desks, key=lambda d: (sort_key(d.agency), sort_key(d.name), d.code))
    reasons = [(rule, str(SHORT_REASONS[rule])) for rule in RULES]
    return QueueFilterForm(
        [(d.code, f"{d.agency} – {d.name}") for d in desks], reasons, formdata=request.args
    )


def _filtered(scope: set[int] | None, form: QueueFilterForm):
    """The flagged ratings of `scope` that match the filters (already validated)."""
    query = flagged(scope)
    if form.desk.data:
        query = query.join(Desk, Response.desk_id == Desk.id).where(Desk.code == form.desk.data)
    if form.reason.data:
        query = query.where(Response.status_reason == form.reason.data)
    if form.agency.data:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == form.agency.data))
        if agency is None:
            abort_with(
                404, _("There is no agency with the code %(code)s.", code=form.agency.data[:40])
            )
        if scope is not None and agency.id not in scope:
            abort_with(403, _("This response belongs to an agency outside your scope."))
        query = query.where(Response.agency_id.in_(subtree_ids(agency.id)))
    if form.since.data:
        query = query.where(Response.occurred_at >= local_midnight_utc(form.since.data))
    if form.until.data:
        end = local_midnight_utc(form.until.data + timedelta(days=1))
        query = query.where(Response.occurred_at < end)
    return query


def _page() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


def reviewable(response: Response) -> bool:
    """Decisions are for flagged responses (docs/integrity.md): one flagged now, or one that
    was flagged and already decided on (a decision may be revised). A response that was never
    flagged is counted as it came; no one may exclude it."""
    if response.status == Status.FLAGGED:
        return True
    earlier = sa.select(AuditLog.id).where(
        AuditLog.action == "response.review", AuditLog.target == str(response.id)
    )
    return db.session.scalar(earlier.limit(1)) is not None


def decide(responses: list[Response], decision: str, reason: str) -> None:
    """Set the status of `responses`, with one audit entry each; the caller commits. Refuses
    (409, nothing changed) if any of them was never flagged."""
    if not all(reviewable(response) for response in responses):
        abort_with(
            409,
            _("Only flagged responses can be reviewed: this response was never flagged."),
        )
    status = Status(decision)
    for response in responses:
        audit(
            "response.review",
            target=str(response.id),
            decision=decision,
            reason=reason,
            previous_status=str(response.status),
            previous_reason=response.status_reason,
            agency_id=response.agency_id,
        )
        response.status = status
        response.status_reason = reason
        if status == Status.VALID and cases.case_for_response(response.id) is None:
            cases.open_case(response)  # a validated comment gets the case it would have had


@bp.route("/", methods=["GET", "POST"])
@reviewer_required
def queue():
    scope = user_scope()
    form = BulkDecisionForm()
    status = 200
    if form.validate_on_submit():
        picked = db.session.scalars(flagged(scope).where(Response.id.in_(form.ids.data))).all()
        if len(picked) != len(form.ids.data):
            abort_with(
                404,
                _(
                    "Some of these responses are not in your review queue any more. Please reload the page."
                ),
            )
        decide(list(picked), form.decision.data, form.reason.data.strip())
        db.session.commit()
        flash(
            ngettext("%(num)d response marked.", "%(num)d responses marked.", len(picked)),
            "success",
        )
        return redirect(url_for("review.queue", **request.args), code=303)
    if request.method == "POST":
        status = 400
    filters = _filter_form(scope)
    if request.args.keys() - {"page"} and not filters.validate():
        abort_with(400, str(next(iter(filters.errors.values()))[0]))
    matching = _filtered(scope, filters)
    page = _page()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(matching.subquery()))
    rows = db.session.scalars(
        matching.order_by(Response.occurred_at.desc(), Response.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return (
        render_template(
            "review/queue.html",
            form=form,
            rows=rows,
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            explain=explain,
            filters=filters,
            args={k: v for k, v in request.args.items() if k != "page"},
            everything=flagged_count(scope),
        ),
        status,
    )


@bp.route("/<uuid:response_id>", methods=["GET", "POST"])
@reviewer_required
def detail(response_id: uuid.UUID):
    scope = user_scope()
    response = db.session.get(Response, response_id)
    if response is None:
        abort_with(404, _("This response does not exist."))
    if scope is not None and response.agency_id not in scope:
        abort_with(403, _("This response belongs to an agency outside your scope."))
    form = DecisionForm()
    status = 200
    if form.validate_on_submit():
        decide([response], form.decision.data, form.reason.data.strip())
        db.session.commit()
        flash(_("Decision recorded."), "success")
        return redirect(url_for("review.detail", response_id=response.id), code=303)
    if request.method == "POST":
        status = 400
    history = db.session.scalars(
        sa.select(AuditLog)
        .where(AuditLog.action == "response.review", AuditLog.target == str(response.id))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
    ).all()
    return (
        render_template(
            "review/detail.html", form=form, row=response, history=history, explain=explain
        ),
        status,
    )
