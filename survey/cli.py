"""`flask --app wsgi seed-demo | backup-sqlite | purge | translate`: the commands of the whole
site. Each area's own commands are in its `cli.py` (registered by `survey.register_commands`).
Each has --help."""

from __future__ import annotations

import os
import secrets
from datetime import date, datetime, time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app, url_for

from survey.audit import audit
from survey.backup import backup, sqlite_path
from survey.cases.models import Case
from survey.extensions import db
from survey.i18n_tools import translate
from survey.models import Agency, Answer, Desk, Response, Ticket, utcnow
from survey.periods import LOCAL_OFFSET


def _demo_password() -> str:
    """The demo password lives in instance/, never in code: generated once, then reused."""
    path = Path(current_app.instance_path) / "demo-password.txt"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def base_url() -> str:
    """PUBLIC_BASE_URL, or where `make run` serves: HOST and PORT (exported by the Makefile)."""
    host = os.environ.get("HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or "5000"
    return current_app.config.get("PUBLIC_BASE_URL") or f"http://{host}:{port}"


@click.command("seed-demo")
@click.option("--print-only", is_flag=True, help="Only print the demo URLs and login.")
def seed_demo(print_only: bool) -> None:
    """Seed a demo province with desks, users and ~4 months of responses (idempotent).

    Does nothing when the demo data already exists; always prints where to go.
    """
    from survey import demo
    from survey.tokens import desk_token

    if current_app.config.get("ENV_NAME") == "production" and not print_only:
        raise click.ClickException("Refusing to seed demo data in production.")
    password = _demo_password()
    if not print_only:
        summary = demo.seed(password)
        verb = "Seeded" if summary.created else "Demo data already present:"
        click.echo(
            f"{verb} {summary.agencies} agencies, {summary.desks} desks, "
            f"{summary.responses} responses."
        )
    desk = db.session.scalar(
        sa.select(Desk).join(Agency).where(Agency.code == "PHT").order_by(Desk.code)
    )
    base = base_url()
    with current_app.test_request_context(base_url=base):
        click.echo("")
        click.echo(f"  App:            {base}/")
        if desk is not None:
            path = url_for("citizen.survey", token=desk_token(desk.id))
            click.echo(f"  Citizen survey: {base}{path}   ({desk.agency.name}, {desk.name})")
        click.echo(f"  Sign in:        {base}/auth/login")
        click.echo(f"    analyst:      {demo.ANALYST_EMAIL} / {password}")
        click.echo(f"    admin:        {demo.ADMIN_EMAIL} / {password}")
        click.echo(f"    leader:       {demo.LEADER_EMAIL} / {password}   (Sở Y tế)")
        click.echo("")


@click.command("backup-sqlite")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write the copy to, e.g. /var/backups/hailong/hailong-$(date +%F).db",
)
@click.option("--force", is_flag=True, help="Replace --out if it already exists.")
def backup_sqlite(out: Path, force: bool) -> None:
    """Copy the live SQLite database to --out, safely while the app keeps serving.

    Uses SQLite's online backup API and checks the copy with PRAGMA integrity_check. To
    restore: stop the app, replace the database file with the copy (delete any -wal and -shm
    files next to it), start the app.
    """
    source = sqlite_path()
    out = out.expanduser().resolve()
    if out == source.resolve():
        raise click.BadParameter("--out is the live database itself", param_hint="--out")
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists; pass --force to replace it.")
    if not out.parent.is_dir():
        raise click.BadParameter(f"the folder {out.parent} does not exist", param_hint="--out")
    counts = backup(source, out)
    click.echo(
        f"Backed up {source} to {out} ({out.stat().st_size / 1_048_576:.1f} MiB, integrity ok): "
        + ", ".join(f"{n} {table}" for table, n in counts.items())
        + "."
    )


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
    # The responses go before their answers (ON DELETE CASCADE): an answer deleted first would
    # make the answer-pattern trigger recompute its response's pattern (migration 0022).
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


commands = (seed_demo, backup_sqlite, purge, translate)
