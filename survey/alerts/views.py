"""The alerts page (scoped to the user's agencies), the e-mail setting, and the outbox."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from survey.alerts import bp, mail, service
from survey.alerts.forms import (
    KIND_LABELS,
    STATE_FILTERS,
    AlertActionForm,
    AlertFilterForm,
    RetryForm,
    SubscriptionForm,
)
from survey.alerts.models import Alert, AlertKind, AlertState, OutboxMessage
from survey.auth.decorators import admin_required, staff_required
from survey.errors import abort_with
from survey.extensions import db
from survey.scope import user_scope

PAGE_SIZE = 100
STATE_LABELS = {k: v for k, v in STATE_FILTERS.items() if k in ("new", "seen", "resolved")}


@bp.app_template_global()
def alert_kind_label(kind) -> str:
    return str(KIND_LABELS.get(str(kind), kind))


@bp.app_template_global()
def alert_state_label(state) -> str:
    return str(STATE_LABELS.get(str(state), state))


@bp.app_template_global()
def alert_summary(alert: Alert) -> str:
    return mail.alert_summary(alert)


def _listed(scope: set[int] | None, filters: AlertFilterForm):
    query = service.scoped(sa.select(Alert), scope)
    state = filters.state.data or "open"
    if state == "open":
        query = query.where(Alert.state.in_(service.OPEN_STATES))
    elif state != "all":
        query = query.where(Alert.state == AlertState(state))
    if filters.kind.data:
        query = query.where(Alert.kind == AlertKind(filters.kind.data))
    return query


def _render(scope, form: AlertActionForm, status: int = 200):
    filters = AlertFilterForm(formdata=request.args)
    if request.args and not filters.validate():
        abort_with(400, str(next(iter(filters.errors.values()))[0]))
    query = _listed(scope, filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    alerts = db.session.scalars(
        query.order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(PAGE_SIZE)
    ).all()
    subscription = SubscriptionForm(
        formdata=None, data={"email_me": service.is_subscribed(current_user)}
    )
    return (
        render_template(
            "alerts/index.html",
            alerts=alerts,
            total=total,
            shown=len(alerts),
            filters=filters,
            form=form,
            subscription=subscription,
            always_mailed=current_user.role in service.ALWAYS_MAILED,
            args=dict(request.args),
        ),
        status,
    )


@bp.route("/", methods=["GET", "POST"])
@staff_required
def index():
    scope = user_scope()
    form = AlertActionForm()
    if request.method == "GET":
        return _render(scope, AlertActionForm(formdata=None))
    if not form.validate_on_submit():
        return _render(scope, form, 400)
    picked = db.session.scalars(
        service.scoped(sa.select(Alert), scope).where(Alert.id.in_(form.ids.data))
    ).all()
    if len(picked) != len(form.ids.data):
        abort_with(
            404, _("Some of these alerts are not among yours any more. Please reload the page.")
        )
    if form.resolve.data:
        changed = service.resolve(
            list(picked), current_user._get_current_object(), form.note.data or None
        )
        message = ngettext("%(num)d alert resolved.", "%(num)d alerts resolved.", changed)
    else:
        changed = service.mark_seen(list(picked))
        message = ngettext(
            "%(num)d alert marked as seen.", "%(num)d alerts marked as seen.", changed
        )
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("alerts.index", **request.args), code=303)


@bp.route("/subscription", methods=["POST"])
@staff_required
def subscription():
    form = SubscriptionForm()
    if not form.validate_on_submit():
        abort_with(400, _("The form has expired. Please try again."))
    service.subscribe(current_user._get_current_object(), bool(form.email_me.data))
    db.session.commit()
    if form.email_me.data:
        flash(
            _("You will receive new alerts of your agencies and a weekly summary by e-mail."),
            "success",
        )
    else:
        flash(_("You will no longer receive alert e-mails."), "success")
    return redirect(url_for("alerts.index"), code=303)


@bp.route("/outbox")
@admin_required
def outbox():
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .order_by(OutboxMessage.sent_at.is_not(None), OutboxMessage.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    return render_template(
        "alerts/outbox.html",
        messages=messages,
        pending=mail.pending_count(),
        form=RetryForm(formdata=None),
    )


@bp.route("/outbox/<int:message_id>/send", methods=["POST"])
@admin_required
def send_now(message_id: int):
    if not RetryForm().validate_on_submit():
        abort_with(400, _("The form has expired. Please try again."))
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort_with(404, _("This message does not exist."))
    if message.sent_at is not None:
        flash(_("This message was already sent."), "success")
        return redirect(url_for("alerts.outbox"), code=303)
    result = mail.deliver(ids=[message.id])
    if result.sent:
        flash(_("The message was sent."), "success")
    else:
        flash(_("The message could not be sent: %(error)s", error=result.error or "?"), "error")
    return redirect(url_for("alerts.outbox"), code=303)
