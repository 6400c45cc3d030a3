"""`flask --app wsgi ...` commands. Each has --help."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app, url_for

from survey.backup import backup_sqlite
from survey.extensions import db
from survey.models import Agency, Desk, Role, User


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(backup_sqlite)
    from survey import security_cli  # API keys and retention

    security_cli.init_app(app)
    from survey.dashboard import cli as dashboard_cli  # the `report` command

    dashboard_cli.init_app(app)
    from survey.admin import cli as admin_cli  # posters, imports, mergers

    admin_cli.init_app(app)
    from survey.alerts import cli as alerts_cli  # alerts and their e-mails

    alerts_cli.init_app(app)
    from survey.followup import cli as followup_cli  # the follow-up sample

    followup_cli.register(app)


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


@click.command("create-user")
@click.option("--email", required=True, help="Sign-in email (unique).")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="analyst", show_default=True
)
@click.option(
    "--agency",
    "agency_code",
    help="Limit the user (an analyst, a leader, or an agency administrator) to this agency's "
    "subtree (code); required for a leader. An administrator without one is global.",
)
@click.option("--name", help="Display name.")
@click.password_option(help="Password (prompted when omitted); at least 10 characters.")
def create_user(email: str, role: str, agency_code: str | None, name: str | None, password: str):
    """Create a user who can sign in to the dashboard or the administration."""
    from survey.audit import audit
    from survey.security import hash_password

    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="--email")
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise click.ClickException(f"A user with email {email} already exists.")
    if role == Role.LEADER.value and not agency_code:
        raise click.BadParameter("a leader leads an agency: give its code", param_hint="--agency")
    agency = None
    if agency_code:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.BadParameter(f"no agency with code {agency_code!r}", param_hint="--agency")
    user = User(
        email=email,
        name=name,
        role=Role(role),
        agency=agency,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    audit("user.create", target=email, role=role, agency=agency_code)
    db.session.commit()
    scope = f", limited to {agency.code}" if agency else ""
    click.echo(f"Created {role} {email}{scope}.")
