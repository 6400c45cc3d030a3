"""The cases pages: staff work the cases of their subtree; citizens read the published reply."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey.auth.decorators import staff_required
from survey.cases import bp, service
from survey.cases.forms import (
    STATUS_LABELS,
    AssignForm,
    CaseFilterForm,
    CloseForm,
    ReopenForm,
    ReplyForm,
)
from survey.cases.models import OPEN_STATUSES, Case, CaseStatus
from survey.collation import by_name
from survey.errors import abort_with
from survey.extensions import db, limiter
from survey.fields import choices
from survey.models import Agency, AuditLog, User
from survey.periods import local_midnight_utc, local_today
from survey.scope import user_scope

PAGE_SIZE = 50
# Citizens read their answer a few times; guessing codes (50 random bits) takes billions.
LOOKUP_RATE_LIMIT = "30 per minute;300 per hour"
MAX_PAGE = 10_000


@bp.app_template_global()
def case_status_label(status) -> str:
    return str(STATUS_LABELS.get(str(status), status))


@bp.app_template_global()
def case_event(entry: AuditLog) -> str:
    """One line of a case's history, in the reader's language."""
    detail = entry.detail or {}
    if entry.action == "case.open":
        return _("Opened from the rating's comment")
    if entry.action == "case.assign":
        return _("Assigned to %(who)s", who=detail.get("assignee", "?"))
    if entry.action == "case.reply":
        if detail.get("published"):
            return _("Reply saved and published: %(text)s", text=detail.get("reply", ""))
        return _("Reply saved, not published: %(text)s", text=detail.get("reply", ""))
    if entry.action == "case.close":
        note = detail.get("note")
        return _("Closed: %(note)s", note=note) if note else _("Case closed")
    if entry.action == "case.reopen":
        return _("Reopened")
    return entry.action


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort_with(400, _("The page number must be a whole number from 1 to %(n)d.", n=MAX_PAGE))
    return int(raw)


def _scoped(query, scope: set[int] | None):
    return query if scope is None else query.where(Case.agency_id.in_(scope))


def _agency_choices(scope: set[int] | None) -> list[tuple[str, str]]:
    """The agencies in scope that have cases (a long tree has few of them)."""
    with_cases = _scoped(sa.select(Case.agency_id).distinct(), scope)
    agencies = db.session.execute(
        sa.select(Agency.code, Agency.name).where(Agency.id.in_(with_cases))
    )
    return [(row.code, row.name) for row in by_name(agencies, lambda r: r.name, lambda r: r.code)]


@bp.route("/cases/")
@staff_required
def index():
    scope = user_scope()
    form = CaseFilterForm(_agency_choices(scope), formdata=request.args)
    if request.args and not form.validate():
        first = next(iter(form.errors.values()))[0]
        abort_with(400, str(first))
    query = _scoped(sa.select(Case), scope)
    status = form.status.data or "open"
    if status == "open":
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif status != "all":
        query = query.where(Case.status == CaseStatus(status))
    if form.agency.data:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == form.agency.data))
        query = query.where(Case.agency_id == agency.id)
    if form.assignee.data == "me":
        query = query.where(Case.assignee_id == current_user.id)
    elif form.assignee.data == "none":
        query = query.where(Case.assignee_id.is_(None))
    if form.overdue.data:
        query = query.where(service.overdue_filter())
    if form.opened_from.data:
        query = query.where(Case.opened_at >= local_midnight_utc(form.opened_from.data))
    if form.opened_to.data:
        end = local_midnight_utc(form.opened_to.data + timedelta(days=1))
        query = query.where(Case.opened_at < end)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    page = _page()
    cases = db.session.scalars(
        query.order_by(Case.due_on, Case.opened_at, Case.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "cases/index.html",
        form=form,
        cases=cases,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        args=args,
        today=local_today(),
        overdue=service.overdue_count(scope),
        filtered=bool(args),
    )


def _case(code: str) -> Case:
    """The case with `code`: 404 when there is none, 403 outside the user's scope."""
    case = service.case_for_code(code)
    if case is None:
        abort_with(404, _("There is no case with the code %(code)s.", code=code[:40]))
    scope = user_scope()
    if scope is not None and case.agency_id not in scope:
        abort_with(403, _("This case belongs to an agency outside your scope."))
    return case


def _assign_form(case: Case, formdata=None) -> AssignForm:
    form = AssignForm(formdata=formdata)
    form.assignee.choices = choices(
        [("", _("Choose a person"))]
        + [
            (str(user.id), f"{user.name} ({user.email})" if user.name else user.email)
            for user in service.assignable_users(case)
        ]
    )
    if formdata is None and case.assignee_id:
        form.assignee.data = str(case.assignee_id)
    return form


def _history(case: Case) -> list[AuditLog]:
    return list(
        db.session.scalars(
            sa.select(AuditLog)
            .where(AuditLog.target == case.code, AuditLog.action.like("case.%"))
            .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        )
    )


def _render(
    case: Case,
    status: int = 200,
    notice: str | None = None,
    assign_form: AssignForm | None = None,
    reply_form: ReplyForm | None = None,
    close_form: CloseForm | None = None,
):
    """The case page; a refused form is shown again with what was sent and its errors."""
    if reply_form is None:
        data = {"reply": case.reply, "publish": case.published_at is not None}
        reply_form = ReplyForm(formdata=None, data=data)
    return (
        render_template(
            "cases/detail.html",
            case=case,
            history=_history(case),
            overdue=service.is_overdue(case),
            today=local_today(),
            notice=notice,
            assign_form=assign_form or _assign_form(case),
            reply_form=reply_form,
            close_form=close_form or CloseForm(formdata=None),
            reopen_form=ReopenForm(formdata=None),
        ),
        status,
    )


@bp.route("/cases/<code>")
@staff_required
def detail(code: str):
    return _render(_case(code))


def _refuse_closed(case: Case):
    return _render(case, 409, notice=_("This case is closed. Reopen it first to change it."))


@bp.route("/cases/<code>/assign", methods=["POST"])
@staff_required
def assign(code: str):
    case = _case(code)
    form = _assign_form(case, formdata=request.form)
    if not form.validate_on_submit():
        return _render(case, 400, assign_form=form)
    if case.status == CaseStatus.CLOSED:
        return _refuse_closed(case)
    assignee = db.session.get(User, int(form.assignee.data))
    service.assign(case, assignee)
    db.session.commit()
    flash(_("The case is assigned to %(who)s.", who=assignee.name or assignee.email), "success")
    return redirect(url_for("cases.detail", code=case.code), code=303)


@bp.route("/cases/<code>/reply", methods=["POST"])
@staff_required
def reply(code: str):
    case = _case(code)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _render(case, 400, reply_form=form)
    if case.status == CaseStatus.CLOSED:
        return _refuse_closed(case)
    service.reply(case, form.reply.data, form.publish.data)
    db.session.commit()
    if case.published_at is not None:
        flash(_("The reply is saved and published on the citizen's page."), "success")
    else:
        flash(_("The reply is saved. It is not published: only staff can read it."), "success")
    return redirect(url_for("cases.detail", code=case.code), code=303)


@bp.route("/cases/<code>/close", methods=["POST"])
@staff_required
def close(code: str):
    case = _case(code)
    form = CloseForm()
    if not form.validate_on_submit():
        return _render(case, 400, close_form=form)
    if case.status == CaseStatus.CLOSED:
        return _refuse_closed(case)
    service.close(case, form.note.data or None)
    db.session.commit()
    flash(_("The case is closed."), "success")
    return redirect(url_for("cases.detail", code=case.code), code=303)


@bp.route("/cases/<code>/reopen", methods=["POST"])
@staff_required
def reopen(code: str):
    case = _case(code)
    if not ReopenForm().validate_on_submit():
        return _render(case, 400, notice=_("The form has expired. Please try again."))
    if case.status != CaseStatus.CLOSED:
        return _render(case, 409, notice=_("This case is not closed."))
    service.reopen(case)
    db.session.commit()
    flash(_("The case is open again."), "success")
    return redirect(url_for("cases.detail", code=case.code), code=303)


# ---- the citizen's page ----------------------------------------------------------------------


@bp.route("/c/", methods=["GET"])
@limiter.limit(LOOKUP_RATE_LIMIT)
def lookup():
    """A form to type a case code; it sends the citizen to the case's page."""
    typed = request.args.get("code")
    error = None
    if typed is not None:
        code = service.normalise_code(typed)
        if code is not None:
            return redirect(url_for("cases.public", code=code), code=303)
        error = _("This is not a case code. A code has 10 letters and digits, such as 7KQ2M-9XD3F.")
    return render_template("cases/lookup.html", typed=typed or "", error=error), (
        400 if error else 200
    )


@bp.route("/c/<code>")
@limiter.limit(LOOKUP_RATE_LIMIT)
def public(code: str):
    case = service.case_for_code(code)
    if case is None:
        abort_with(
            404,
            _("There is no case with this code. Please check the code on your thank-you page."),
        )
    if service.normalise_code(code) != code:
        return redirect(url_for("cases.public", code=case.code), code=301)
    return render_template("cases/public.html", case=case, today=local_today())
