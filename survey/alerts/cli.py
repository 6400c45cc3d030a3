"""`flask --app wsgi alerts run | test-mail`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from survey.models import utcnow

alerts = AppGroup("alerts", help="Detect alerts and deliver alert e-mails and weekly digests.")

# sysexits.h EX_TEMPFAIL: something waits for a retry (systemd shows the run as failed).
TEMPFAIL = 75


@alerts.command("run")
@click.option("--no-send", is_flag=True, help="Detect and queue, but do not contact SMTP.")
def run(no_send: bool) -> None:
    """Detect new alerts, queue the e-mails (alerts, weekly digests) and deliver the outbox.

    Idempotent: each alert is stored once and e-mailed once to each recipient, each digest
    once a week. Messages that SMTP refuses or cannot take stay in the outbox and are retried
    with back-off on later runs. Exits with 75 when some messages wait for a retry.
    """
    from survey.alerts import detect, mail

    now = utcnow()
    found = detect.run(now)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(found.raised.items())) or "none"
    click.echo(
        f"Alerts: {found.total} new ({kinds}); {found.resolved} resolved by themselves; "
        f"{found.charts} agencies charted."
    )
    queued = mail.compose_alerts(now)
    digests = mail.compose_digests(now)
    click.echo(f"Queued {queued} alert messages and {digests} weekly digests.")
    if no_send:
        click.echo(f"Not sending (--no-send): {mail.pending_count()} messages in the outbox.")
        return
    result = mail.deliver(now)
    click.echo(f"Sent {result.sent} messages; {result.failed} failed; {result.waiting} waiting.")
    if result.error:
        click.echo(f"SMTP: {result.error}", err=True)
    if result.failed or result.waiting:
        pending = mail.pending_count()
        click.echo(f"{pending} messages wait in the outbox for a retry.", err=True)
        sys.exit(TEMPFAIL)


@alerts.command("test-mail")
@click.option("--to", "recipient", required=True, help="Address to send a test message to.")
def test_mail(recipient: str) -> None:
    """Send one message now, to check the MAIL_* settings (nothing is stored)."""
    import smtplib
    from email.message import EmailMessage

    from survey.alerts import mail

    if not current_app.config["MAIL_SERVER"]:
        raise click.ClickException("MAIL_SERVER is not set.")
    message = EmailMessage()
    message["Subject"] = "[hailong] Thư thử nghiệm"
    message["From"] = mail._sender()
    message["To"] = recipient
    message.set_content("Cấu hình gửi thư của hailong hoạt động.", charset="utf-8")
    try:
        smtp = mail.connect()
        smtp.send_message(message)
        smtp.quit()
    except (OSError, smtplib.SMTPException) as error:
        raise click.ClickException(f"Could not send: {type(error).__name__}: {error}") from None
    click.echo(f"Sent a test message to {recipient} through {current_app.config['MAIL_SERVER']}.")


commands = (alerts,)
