"""`flask --app wsgi followup draw | call-list`: the follow-up sample from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

group = AppGroup("followup", help="The follow-up sample of returned dossiers (docs/statistics.md).")


@group.command("draw")
@click.option("--period", required=True, help="e.g. 2026-Q3, 2026-07, 2026-H2, 2026.")
@click.option("--size", type=int, required=True, help="Number of dossiers to draw.")
@click.option("--agency", "agency_code", help="Only this agency's subtree (its code).")
@click.option("--seed", type=int, help="Reproduce an earlier draw (its seed is printed).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the call list here (.csv or .xlsx); default followup-<id>.csv.",
)
def draw_command(period: str, size: int, agency_code: str | None, seed: int | None, out):
    """Draw a stratified random sample of dossiers returned in PERIOD (strata: agencies,
    proportional allocation) and write its call list of dossier codes."""
    from survey.followup.service import FollowupError, call_list, draw
    from survey.periods import PeriodError

    with current_app.test_request_context():  # messages in the default language
        try:
            result = draw(period, size, agency_code=agency_code, seed=seed, actor="cli")
        except (FollowupError, PeriodError) as error:
            raise click.ClickException(str(error)) from None
    out = out or Path(f"followup-{result.id}.csv")
    fmt = "xlsx" if out.suffix.lower() == ".xlsx" else "csv"
    out.write_bytes(call_list(result, fmt))
    click.echo(
        f"Draw {result.id}: {len(result.items)} dossiers from "
        f"{sum(s['population'] for s in result.allocation.values())} returned in {result.period}, "
        f"{len(result.allocation)} strata, seed {result.seed}. Call list: {out}"
    )


commands = (group,)
