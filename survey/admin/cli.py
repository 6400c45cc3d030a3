"""`flask --app wsgi qr-posters | import-agencies | export-agencies | import-paper |
merge-agencies | import-dossiers | import-procedures | import-dossier-counts | create-user |
create-api-key | list-api-keys | revoke-api-key`: the administration from the command line.
Each has --help."""

from __future__ import annotations

import functools
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app

from survey import imports, posters
from survey.audit import audit
from survey.credentials import API_KEY_SCOPES, issue_api_key
from survey.extensions import db
from survey.models import Agency, ApiKey, Desk, Role, User, utcnow


def _with_request(command):
    """Run a command inside a request context on PUBLIC_BASE_URL, so that translated messages
    (Vietnamese by default) and survey URLs work as they do on the web."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        with current_app.test_request_context(base_url=_base_url()):
            return command(*args, **kwargs)

    return wrapped


def _base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"


def _agency(code: str, option: str) -> Agency:
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == code))
    if agency is None:
        raise click.BadParameter(f"no agency with code {code!r}", param_hint=option)
    return agency


@click.command("qr-posters")
@click.option("--agency", "agency_code", help="Print the desks of this agency (code).")
@click.option("--desk", "desk_code", help="Print this one desk (code).")
@click.option("--subtree", is_flag=True, help="With --agency: include the sub-agencies' desks.")
@click.option("--size", type=click.Choice(sorted(posters.SIZES)), default="A4", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The PDF file to write.",
)
@_with_request
def qr_posters(agency_code, desk_code, subtree, size, out):
    """Write print-ready QR posters (one page per active desk) to a PDF.

    The URLs use PUBLIC_BASE_URL; set it to the address citizens' phones reach.
    """
    from survey.links import survey_url

    if bool(agency_code) == bool(desk_code):
        raise click.UsageError("Give exactly one of --agency CODE or --desk CODE.")
    if desk_code:
        desk = db.session.scalar(sa.select(Desk).where(Desk.code == desk_code))
        if desk is None:
            raise click.BadParameter(f"no desk with code {desk_code!r}", param_hint="--desk")
        desks = [desk]
    else:
        desks = posters.desks_for(agency=_agency(agency_code, "--agency"), subtree=subtree)
    if not desks:
        raise click.ClickException("No active desks to print.")
    if not current_app.config.get("PUBLIC_BASE_URL"):
        click.echo(f"PUBLIC_BASE_URL is not set: the posters point at {_base_url()}.", err=True)
    items = [posters.Poster(d.agency.name, d.name, survey_url(d)) for d in desks]
    with click.progressbar(items, label=f"Drawing {len(items)} posters") as pages:
        out.write_bytes(posters.render(pages, size))
    click.echo(f"Wrote {len(items)} {size} posters to {out}.")


class _Bar:
    """Feeds an importer's (done, total) progress into a click progress bar."""

    def __init__(self, label: str):
        self.label, self.bar, self.done = label, None, 0

    def __call__(self, done: int, total: int | None) -> None:
        if not total:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label)
            self.bar.__enter__()
        self.bar.update(max(0, min(done, total) - self.done))
        self.done = min(done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _run_import(importer, path: Path, dry_run: bool, what: str, **options) -> None:
    bar = _Bar(f"Checking {path.name}")
    with path.open("rb") as stream:
        try:
            result = importer(stream, dry_run=dry_run, progress=bar, **options)
        finally:
            bar.close()
    if not result.ok:
        for error in result.errors:
            click.echo(str(error), err=True)
        if result.truncated:
            click.echo(f"(only the first {len(result.errors)} errors are shown)", err=True)
        raise click.ClickException(f"Nothing was imported: {len(result.errors)} error(s).")
    if result.written:
        imports.audit_written(what, path.name, result)
    verb = "Checked (nothing written)" if dry_run else "Imported"
    click.echo(
        f"{verb}: {result.rows} rows, {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged."
        + (f" {result.cases} case(s) opened for comments." if result.cases else "")
    )


_file = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_dry_run = click.option("--dry-run", is_flag=True, help="Check the file; write nothing.")


@click.command("import-agencies")
@_file
@_dry_run
@_with_request
def import_agencies(file: Path, dry_run: bool):
    """Create or update agencies from a CSV or XLSX FILE, all or nothing.

    Columns: code, name, parent_code, level, kind (and optionally name_en). See docs/admin.md.
    """
    _run_import(imports.import_agencies, file, dry_run, "agencies")


@click.command("import-paper")
@_file
@_dry_run
@_with_request
def import_paper(file: Path, dry_run: bool):
    """Import paper forms from a CSV or XLSX FILE as responses (channel paper), all or nothing.

    Columns: desk_code, date, level, one column per criterion code, comment, form_number.
    Importing the same file again changes nothing. See docs/admin.md.
    """
    _run_import(imports.import_paper, file, dry_run, "paper")


@click.command("export-agencies")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="FILE.csv or FILE.xlsx; the extension picks the format.",
)
@_with_request
def export_agencies(out: Path):
    """Write the agency tree (code, name, parent_code, level, kind, name_en), parents first."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise click.BadParameter("the file must end in .csv or .xlsx", param_hint="--out")
    out.write_bytes(imports.export_agencies(fmt))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Agency))
    click.echo(f"Wrote {count} agencies to {out}.")


@click.command("merge-agencies")
@click.option("--into", "target_code", required=True, help="Code of the agency that remains.")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--date",
    "merged_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The local date the merger took effect (default today); a past date records a merger "
    "done before hailong.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_with_request
def merge_agencies(target_code: str, sources: tuple[str, ...], merged_on, yes: bool):
    """Merge the agencies SOURCES (codes) into --into: their desks and sub-agencies move, and
    they are deactivated. Past responses keep their agency, so past reports stay as they were;
    the new agency's page can show the combined history."""
    from survey.admin.tree import TreeError, merge

    target = _agency(target_code, "--into")
    agencies = [_agency(code, "SOURCES") for code in sources]
    day = merged_on.date() if merged_on else None
    if not yes:
        when = f" on {day.isoformat()}" if day else ""
        click.confirm(
            f"Merge {', '.join(sources)} into {target.code} ({target.name}){when}?", abort=True
        )
    try:
        summary = merge(agencies, target, merged_on=day)
    except TreeError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"Merged {', '.join(summary.sources)} into {summary.target} on "
        f"{summary.merged_on.isoformat()}: {summary.desks} desks and "
        f"{summary.children} sub-agencies moved."
    )
    if summary.users_left:
        click.echo(
            f"{summary.users_left} active users are still limited to the old agencies; "
            "review their scope in the administration.",
            err=True,
        )


@click.command("import-dossiers")
@_file
@_dry_run
@_with_request
def import_dossiers(file: Path, dry_run: bool):
    """Create or update dossiers' tickets (desk_code, dossier_code, procedure, due_date,
    returned_date) from a CSV/XLSX file, e.g. the return dates; all or nothing."""
    from survey import dossiers

    _run_import(dossiers.import_dossiers, file, dry_run, "dossiers")


@click.command("import-procedures")
@_file
@_dry_run
@click.option("--province", help="The province's agency code (needed when there are several).")
@_with_request
def import_procedures(file: Path, dry_run: bool, province: str | None):
    """Create or update a province's procedure list (code, name, field, name_en) from a
    CSV/XLSX file; all or nothing."""
    from survey import dossiers

    _run_import(dossiers.import_procedures, file, dry_run, "procedures", province=province)


@click.command("import-dossier-counts")
@_file
@_dry_run
@_with_request
def import_dossier_counts(file: Path, dry_run: bool):
    """Create or update the dossiers handled per desk and period (desk_code, period, handled)
    from a CSV/XLSX file: the denominators of the response rates; all or nothing."""
    from survey import dossier_counts

    _run_import(dossier_counts.import_counts, file, dry_run, "counts")


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


commands = (
    qr_posters,
    import_agencies,
    export_agencies,
    import_paper,
    merge_agencies,
    import_dossiers,
    import_procedures,
    import_dossier_counts,
    create_user,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
