"""`flask --app wsgi create-api-key | list-api-keys | revoke-api-key | purge`."""

from __future__ import annotations

from datetime import date, datetime, time

import click
import sqlalchemy as sa
from flask import Flask

from survey.audit import audit
from survey.cases.models import Case
from survey.credentials import API_KEY_SCOPES, issue_api_key
from survey.extensions import db
from survey.models import Agency, Answer, ApiKey, Response, Ticket, utcnow
from survey.periods import LOCAL_OFFSET


def init_app(app: Flask) -> None:
    for command in (create_api_key, list_api_keys, revoke_api_key, purge):
        app.cli.add_command(command)


@click.command("create-api-key")
@click.option("--name", required=True, help="Who uses the key, e.g. 'iGate Sở Tư pháp'.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(API_KEY_SCOPES),
    help="What the key may do; repeat for several.",
)
@click.option("--agency", "agency_code", help="Limit the key to this agency's subtree (code).")
def create_api_key(name: str, scopes: tuple[str, ...], agency_code: str | None) -> None:
    """Create an API key for an integrator. The key is shown once: only its hash is stored."""
    name = name.strip()
    if not name or len(name) > 120:
        raise click.BadParameter("give a name of 1 to 120 characters", param_hint="--name")
    agency = None
    if agency_code:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.BadParameter(f"no agency with code {agency_code!r}", param_hint="--agency")
    row, key = issue_api_key(name, list(scopes), agency.id if agency else None)
    db.session.flush()
    audit("api_key.create", target=row.prefix, name=name, scopes=row.scopes, agency=agency_code)
    db.session.commit()
    limit = f", limited to {agency.code}" if agency else ""
    click.echo(f"Created API key {row.prefix} ({name}; {', '.join(row.scopes)}{limit}).")
    click.echo("Copy it now; it will not be shown again:")
    click.echo("")
    click.echo(f"  {key}")
    click.echo("")


@click.command("list-api-keys")
def list_api_keys() -> None:
    """List API keys (never the keys themselves): prefix, name, scopes, agency, state."""
    rows = db.session.scalars(sa.select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)).all()
    if not rows:
        click.echo("No API keys.")
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        agency = row.agency.code if row.agency else "all agencies"
        used = f"last used {row.last_used_at:%Y-%m-%d}" if row.last_used_at else "never used"
        click.echo(
            f"{row.prefix}  {row.name}  [{', '.join(row.scopes)}]  {agency}  {state}, {used}"
        )


@click.command("revoke-api-key")
@click.argument("prefix")
def revoke_api_key(prefix: str) -> None:
    """Revoke the API key whose prefix is PREFIX (see list-api-keys); it stops working at once."""
    prefix = prefix.removeprefix("hl_").split("_")[0]
    row = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None:
        raise click.ClickException(f"No API key with prefix {prefix!r}.")
    if row.revoked_at is not None:
        click.echo(f"API key {prefix} was already revoked on {row.revoked_at:%Y-%m-%d}.")
        return
    row.revoked_at = utcnow()
    audit("api_key.revoke", target=prefix, name=row.name)
    db.session.commit()
    click.echo(f"Revoked API key {prefix} ({row.name}).")


@click.command("purge")
@click.option(
    "--before",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Delete what happened before this local date (YYYY-MM-DD, Vietnam time).",
)
@click.option("--yes", is_flag=True, help="Really delete; without it, only count.")
def purge(before: datetime, yes: bool) -> None:
    """Retention: delete responses (their answers and cases) from before a date, and the tickets
    issued before it that no remaining response uses. Without --yes, only say how many."""
    cutoff_day: date = before.date()
    if cutoff_day > (utcnow() + LOCAL_OFFSET).date():
        raise click.BadParameter("the date is in the future", param_hint="--before")
    cutoff = datetime.combine(cutoff_day, time()) - LOCAL_OFFSET  # local midnight, in UTC
    old = sa.select(Response.id).where(Response.occurred_at < cutoff)
    responses = db.session.scalar(sa.select(sa.func.count()).select_from(old.subquery())) or 0
    answers = db.session.scalar(sa.select(sa.func.count()).where(Answer.response_id.in_(old))) or 0
    still_used = sa.select(Response.ticket_id).where(
        Response.ticket_id.is_not(None), Response.occurred_at >= cutoff
    )
    old_tickets = sa.and_(Ticket.created_at < cutoff, Ticket.id.not_in(still_used))
    tickets = db.session.scalar(sa.select(sa.func.count()).where(old_tickets)) or 0
    cases = db.session.scalar(sa.select(sa.func.count()).where(Case.response_id.in_(old))) or 0
    summary = (
        f"{responses} responses, {answers} answers and {tickets} tickets from before "
        f"{cutoff_day:%Y-%m-%d}, with the {cases} cases they opened"
    )
    if not yes:
        click.echo(f"Would delete {summary}. Run again with --yes to delete them.")
        return
    db.session.execute(sa.delete(Answer).where(Answer.response_id.in_(old)))
    db.session.execute(sa.delete(Case).where(Case.response_id.in_(old)))
    db.session.execute(sa.delete(Response).where(Response.occurred_at < cutoff))
    db.session.execute(sa.delete(Ticket).where(old_tickets))
    audit(
        "responses.purge",
        target=f"before {cutoff_day:%Y-%m-%d}",
        responses=responses,
        answers=answers,
        tickets=tickets,
        cases=cases,
    )
    db.session.commit()
    click.echo(f"Deleted {summary}.")
