"""The citizen's page for a one-time dossier ticket: the desk survey, usable once."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from survey.cases import service as cases
from survey.citizen.forms import refused_notice, survey_form
from survey.dossiers import rated_before_return
from survey.errors import abort_with, csrf_expired, rerender_on_csrf_failure
from survey.extensions import db, limiter
from survey.languages.packs import page_language
from survey.models import Channel, Response, Ticket, utcnow
from survey.responses import InvalidAnswer, ResponseConflict, Submission, record
from survey.security import citizen_rate_limit, client_hash, page_rate_limit_key
from survey.tickets import bp
from survey.tickets.service import claim, is_expired, ticket_for_token, ticket_url


def _ticket(token: str) -> Ticket:
    ticket = ticket_for_token(token)
    if ticket is None:
        abort_with(
            404,
            _("This survey link is not valid. Please scan the QR code on your receipt again."),
        )
    desk = ticket.desk
    if not desk.active or not desk.agency.active:
        abort_with(410, _("This desk no longer takes ratings. Thank you for your interest."))
    return ticket


def _case(ticket: Ticket):
    """The case the ticket's rating opened, if any."""
    response_id = db.session.scalar(sa.select(Response.id).where(Response.ticket_id == ticket.id))
    return cases.case_for_response(response_id)


def _closed(ticket: Ticket, token: str):
    """The page of a used or expired ticket; nothing is stored. When the rating opened a case,
    this is where the citizen reads the agency's answer (200); otherwise the link is gone (410)."""
    used = ticket.used_at is not None
    case = _case(ticket) if used else None
    return (
        render_template(
            "tickets/closed.html", ticket=ticket, desk=ticket.desk, used=used, case=case
        ),
        200 if case is not None else 410,
    )


def _render(ticket: Ticket, token: str, form, status: int = 200, notice: str | None = None):
    wording, offered = page_language(ticket.desk, ticket.desk.current_questionnaire())
    return (
        render_template(
            "citizen/survey.html",
            desk=ticket.desk,
            questionnaire=ticket.desk.current_questionnaire(),
            form=form,
            notice=notice,
            token=token,
            ticket=ticket,
            before_return=rated_before_return(utcnow(), ticket.returned_date),
            action=url_for("tickets.survey", token=token),
            w=wording,
            offered=offered,
        ),
        status,
    )


@bp.route("/t/<token>", methods=["GET", "POST"])
@limiter.limit(citizen_rate_limit, methods=["POST"], key_func=page_rate_limit_key)
@rerender_on_csrf_failure("tickets.survey")
def survey(token: str):
    ticket = _ticket(token)
    questionnaire = ticket.desk.current_questionnaire()
    wording, _offered = page_language(ticket.desk, questionnaire)
    form = survey_form(questionnaire, str(get_locale()), with_dossier=False, wording=wording)
    if request.method == "GET":
        if ticket.used_at is not None or is_expired(ticket):
            return _closed(ticket, token)
        form.response_id.data = str(uuid.uuid4())
        return _render(ticket, token, form)
    if csrf_expired() or not form.validate_on_submit():
        if ticket.used_at is not None or is_expired(ticket):
            return _closed(ticket, token)
        return _render(ticket, token, form, 400, refused_notice(form, wording))
    response_id = uuid.UUID(form.response_id.data)
    earlier = db.session.get(Response, response_id)
    if earlier is not None:
        if earlier.ticket_id == ticket.id:
            return redirect(url_for("tickets.thanks", token=token), code=303)  # Send pressed twice
        abort_with(
            409, _("This form was already sent. Please open the link on your receipt again.")
        )
    if not claim(ticket):
        db.session.rollback()
        return _closed(ticket, token)
    submission = Submission(
        id=response_id,
        desk=ticket.desk,
        questionnaire=questionnaire,
        channel=Channel.QR,
        level=form.rating.data,
        answers=form.criteria_answers(),
        comment=(form.comment.data or "").strip() or None,
        dossier_code=ticket.dossier_code,
        client_hash=client_hash(request.remote_addr),
        ticket_id=ticket.id,
        language=wording.code,
    )
    try:
        stored, created = record(submission)
    except ResponseConflict:
        db.session.rollback()
        abort_with(
            409, _("This form was already sent. Please open the link on your receipt again.")
        )
    except InvalidAnswer:
        db.session.rollback()
        return _render(ticket, token, form, 400, _("Please check the highlighted answers."))
    if not created:
        # Another request stored this id first; keep the ticket as that request left it.
        db.session.rollback()
        if stored.ticket_id != ticket.id:
            return _closed(ticket, token)
    return redirect(url_for("tickets.thanks", token=token), code=303)


@bp.route("/t/<token>/thanks")
def thanks(token: str):
    ticket = _ticket(token)
    wording, offered = page_language(ticket.desk, ticket.desk.current_questionnaire())
    return render_template(
        "citizen/thanks.html",
        desk=ticket.desk,
        token=token,
        w=wording,
        offered=offered,
        case=_case(ticket),
        ticket_link=ticket_url(ticket),
    )
