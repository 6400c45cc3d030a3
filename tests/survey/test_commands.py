"""The `flask` commands: each area registers its own from its `cli.py`, and every command keeps
the name and the options that operators' scripts and timers call it with."""

from __future__ import annotations

import click
import pytest

from survey import create_app

# Every command and group the site adds (Flask-Migrate's `db` aside), with its options and
# arguments. A change here breaks someone's cron line or systemd unit: make it on purpose.
COMMANDS = {
    "alerts": [],
    "alerts run": ["--no-send"],
    "alerts test-mail": ["--to"],
    "backup-sqlite": ["--force", "--out"],
    "create-api-key": ["--agency", "--name", "--scope"],
    "create-user": ["--agency", "--email", "--name", "--password", "--role"],
    "export-agencies": ["--out"],
    "followup": [],
    "followup draw": ["--agency", "--out", "--period", "--seed", "--size"],
    "import-agencies": ["--dry-run", "file"],
    "import-dossier-counts": ["--dry-run", "file"],
    "import-dossiers": ["--dry-run", "file"],
    "import-paper": ["--dry-run", "file"],
    "import-procedures": ["--dry-run", "--province", "file"],
    "list-api-keys": [],
    "merge-agencies": ["--date", "--into", "--yes", "sources"],
    "purge": ["--before", "--yes"],
    "qr-posters": ["--agency", "--desk", "--out", "--size", "--subtree"],
    "report": [
        "--adjust",
        "--agency",
        "--calendar",
        "--confidence",
        "--deff",
        "--format",
        "--history",
        "--lang",
        "--method",
        "--out",
        "--period",
        "--target",
    ],
    "revoke-api-key": ["prefix"],
    "seed-demo": ["--print-only"],
    "translate": [],
    "translate check": [],
    "translate compile": [],
    "translate fill": ["--locale", "area", "mapping"],
    "translate update": ["areas"],
}

# Where commands may be defined: the site's own, each area's, and the translation tools.
HOMES = {
    "survey.cli",
    "survey.admin.cli",
    "survey.alerts.cli",
    "survey.dashboard.cli",
    "survey.followup.cli",
    "survey.i18n_tools",
}


def _commands(group: click.Group, prefix: str = ""):
    for name, command in sorted(group.commands.items()):
        if not prefix and name == "db":
            continue
        yield prefix + name, command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + name + " ")


@pytest.fixture(scope="module")
def commands():
    return dict(_commands(create_app({"CONFIG_NAME": "testing", "SECRET_KEY": "x"}).cli))


def test_every_command_keeps_its_name_and_options(commands):
    found = {name: sorted(o for p in c.params for o in p.opts) for name, c in commands.items()}
    assert found == COMMANDS


def test_every_command_is_defined_in_its_areas_cli_module(commands):
    homes = {
        name: command.callback.__module__
        for name, command in commands.items()
        if command.callback is not None and not isinstance(command, click.Group)
    }
    assert len(homes) == len([c for c in commands.values() if not isinstance(c, click.Group)])
    assert {name: home for name, home in homes.items() if home not in HOMES} == {}
    assert set(homes.values()) == HOMES  # every home holds at least one command
