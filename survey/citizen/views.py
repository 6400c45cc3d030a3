"""The citizen survey: a signed desk URL, one required question, a thank-you page."""

from __future__ import annotations

import dataclasses
import time
import uuid

from flask import redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from survey import cache
from survey.cases import service as cases
from survey.citizen import bp
from survey.citizen.forms import refused_notice, survey_form
from survey.errors import abort_with, csrf_expired, rerender_on_csrf_failure
from survey.extensions import limiter
from survey.integrity import REPEAT_BROWSER
from survey.languages import packs
from survey.models import Channel, Desk, Status
from survey.responses import ResponseConflict, Submission, record
from survey.security import citizen_rate_limit, client_hash, page_rate_limit_key
from survey.tokens import desk_id_from_token


def desk_for_token(token: str) -> cache.DeskInfo:
    """The active desk a token names (a snapshot from the per-process cache, survey/cache.py),
    or a friendly 404/410."""
    desk_id = desk_id_from_token(token)
    desk = cache.desk_by_id(desk_id) if desk_id is not None else None
    if desk is None:
        abort_with(
            404, _("This survey link is not valid. Please scan the QR code at the desk again.")
        )
    if not desk.active or not desk.agency.active:
        abort_with(410, _("This desk no longer takes ratings. Thank you for your interest."))
    return desk


def _render(desk, questionnaire, form, wording, offered, status=200, notice=None):
    return (
        render_template(
            "citizen/survey.html",
            desk=desk,
            questionnaire=questionnaire,
            form=form,
            notice=notice,
            token=request.view_args["token"],
            w=wording,
            offered=offered,
        ),
        status,
    )


@bp.route("/s/<token>", methods=["GET", "POST"])
@limiter.limit(citizen_rate_limit, methods=["POST"], key_func=page_rate_limit_key)
@rerender_on_csrf_failure("citizen.survey")
def survey(token: str):
    desk = desk_for_token(token)
    questionnaire = desk.current_questionnaire()
    wording, offered = packs.page_language(desk, questionnaire)
    form = survey_form(questionnaire, str(get_locale()), wording=wording)
    if request.method == "GET":
        fresh = _fresh_id(request.args.get("new"))
        remembered = None if request.args.get("new") else _remembered_id(desk)
        form.response_id.data = fresh or remembered or str(uuid.uuid4())
        return _render(desk, questionnaire, form, wording, offered)
    if csrf_expired() or not form.validate_on_submit():
        notice = refused_notice(form, wording)
        return _render(desk, questionnaire, form, wording, offered, 400, notice)
    # The cooldown: this browser already sent another rating of this desk a moment ago (see
    # _remembered_id). It is stored, flagged for review, and left out of the rate until then.
    previous = _remembered_id(desk)
    repeat = previous is not None and previous != form.response_id.data
    submission = Submission(
        id=uuid.UUID(form.response_id.data),
        desk=desk,
        questionnaire=questionnaire,
        channel=Channel.QR,
        level=form.rating.data,
        answers=form.criteria_answers(),
        comment=(form.comment.data or "").strip() or None,
        dossier_code=(form.dossier_code.data or "").strip() or None,
        client_hash=client_hash(request.remote_addr),
        status=Status.FLAGGED if repeat else Status.VALID,
        status_reason=REPEAT_BROWSER if repeat else None,
        language=wording.code,
    )
    try:
        record(submission)
    except ResponseConflict:
        # This browser already sent this form with other answers: someone else on the same
        # phone, or the same person after Back. Flag it, don't drop it (docs/integrity.md).
        submission = _as_repeat(submission)
        record(submission)
    _remember(desk, submission.id)
    return redirect(url_for("citizen.thanks", token=token), code=303)


def _as_repeat(submission: Submission) -> Submission:
    """Other answers under an id already stored: a new response flagged `repeat_browser`.
    Its id derives from the first id and the answers, so that sending these answers again
    (Back, Send) finds it and stores nothing more."""
    answers = sorted((submission.answers or {}).items())
    content = repr((submission.level, answers, submission.comment, submission.dossier_code))
    return dataclasses.replace(
        submission,
        id=uuid.uuid5(submission.id, content),
        status=Status.FLAGGED,
        status_reason=REPEAT_BROWSER,
    )


# Back, then Send again, must not count twice, even when the browser reloads the form: the
# session (a signed cookie) remembers the id last sent for each desk for a while, and the form
# reuses it, so a resubmission is a duplicate (same answers) or a conflict (changed answers).
REMEMBER_SECONDS = 30 * 60
REMEMBER_DESKS = 5


def _remembered_id(desk: Desk) -> str | None:
    entry = session.get("sent", {}).get(str(desk.id))
    if not entry or time.time() - entry[1] > REMEMBER_SECONDS:
        return None
    return entry[0]


def _remember(desk: Desk, response_id: uuid.UUID) -> None:
    sent = dict(session.get("sent", {}))
    sent[str(desk.id)] = [str(response_id), int(time.time())]
    newest = sorted(sent.items(), key=lambda item: item[1][1])[-REMEMBER_DESKS:]
    session["sent"] = dict(newest)


def _fresh_id(value: str | None) -> str | None:
    """The id a "Rate for someone else?" link carries (`?new=<uuid>`), or None."""
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


@bp.route("/s/<token>/thanks")
def thanks(token: str):
    desk = desk_for_token(token)
    # The case this browser's rating opened, if any: its code and link are shown once, here.
    sent = _remembered_id(desk)
    case = cases.case_for_response(sent)
    wording, offered = packs.page_language(desk, desk.current_questionnaire())
    # The next person's form gets an id derived from this rating's: reloading that form, or
    # Back then Send on it, keeps the same id, so the next rating is stored once too.
    another = uuid.uuid5(uuid.UUID(sent), "another") if sent else "1"
    return render_template(
        "citizen/thanks.html",
        desk=desk,
        w=wording,
        offered=offered,
        token=token,
        case=case,
        case_link=cases.public_url(case) if case else None,
        another_link=url_for("citizen.survey", token=token, new=another),
    )
