"""A consistent copy of a live SQLite database (the `backup-sqlite` command, in survey/cli.py).

Small sites run on SQLite. Copying the file with `cp` while the app writes can produce a torn
copy (the database file and its WAL disagree), so this uses SQLite's online backup API
(`sqlite3.Connection.backup`), which copies one consistent snapshot. In WAL mode the snapshot
does not block the app's writers. PostgreSQL sites use `pg_dump` instead (docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click

from survey.extensions import db


def sqlite_path() -> Path:
    """The file of the app's SQLite database, or a ClickException for any other database."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            f"The database is {url.get_backend_name()}, not SQLite: back it up with pg_dump "
            "(see docs/deploy.md)."
        )
    if not url.database or url.database == ":memory:":
        raise click.ClickException("The SQLite database is in memory; there is nothing to back up.")
    path = Path(url.database)
    if not path.exists():
        raise click.ClickException(f"The database file {path} does not exist.")
    return path


def backup(source: Path, out: Path) -> dict[str, int]:
    """Copy `source` to `out` through the backup API; check the copy; return row counts.

    The copy is written next to `out` and renamed into place only once it passed
    `PRAGMA integrity_check`, so a failed or interrupted backup never replaces a good one.
    """
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=10)
    dst = sqlite3.connect(partial)
    try:
        with dst:
            src.backup(dst)  # all pages in one step: one consistent snapshot
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise click.ClickException(f"The copy failed SQLite's integrity check: {check}")
        counts = {
            table: dst.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in ("response", "answer", "agency", "desk")
        }
    finally:
        dst.close()
        src.close()
    os.replace(partial, out)
    return counts
