"""What an import did, the errors it names, and the one transaction every import runs in.

Every row is checked; the first error stops the writing but not the checking, so that one run
reports up to `MAX_ERRORS` problems, each naming its row and column. Any error rolls the whole
transaction back: an import writes everything or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from survey.audit import audit
from survey.extensions import db

if TYPE_CHECKING:
    from survey.imports.table import Table

MAX_ERRORS = 50

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RowError:
    """A problem in the file. `row` counts lines of the file (the header is row 1)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is not None and self.column:
            return _("Row %(row)d, column %(column)s: %(message)s", **self._parts())
        if self.row is not None:
            return _("Row %(row)d: %(message)s", **self._parts())
        return str(self.message)

    def _parts(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    """What an import did (or, with errors or a dry run, would have done)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    truncated: bool = False
    dry_run: bool = False
    cases: int = 0  # paper forms: cases the new forms' comments opened

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def add_error(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.errors) >= MAX_ERRORS:
            self.truncated = True
            return
        self.errors.append(RowError(row, column, message))

    @property
    def full(self) -> bool:
        return self.truncated or len(self.errors) >= MAX_ERRORS


class FileProblem(Exception):
    """The file as a whole can't be read (format, encoding, header)."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        super().__init__(str(message))
        self.error = RowError(row, column, str(message))


def run(table_factory, work, result: ImportResult, dry_run: bool) -> ImportResult:
    """Run `work` in one transaction: commit only when there is no error and it is not a dry run."""
    result.dry_run = dry_run
    table = None
    try:
        table = table_factory()
        work(table)
    except FileProblem as problem:
        result.errors.insert(0, problem.error)
    except IntegrityError:
        db.session.rollback()
        result.add_error(
            None,
            None,
            _(
                "Someone changed the same records while this file was being imported. Nothing was written; please import it again."
            ),
        )
        return result
    if table is not None and table.headings:
        # Errors name columns by the file's own headings, not by the internal codes.
        result.errors = [
            replace(e, column=table.headings.get(e.column, e.column)) for e in result.errors
        ]
    if result.ok and not dry_run:
        db.session.commit()
    else:
        db.session.rollback()
    return result


def audit_written(kind: str, target: str | None, result: ImportResult) -> None:
    """Put a written import in the audit log (`import.<kind>`, with its counts) and commit."""
    audit(
        f"import.{kind}",
        target=target,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        cases=result.cases,
    )
    db.session.commit()


def tick(table: Table, progress: Progress | None) -> None:
    if progress is not None:
        progress(*table.progress())


def each_row(
    table: Table, result: ImportResult, progress: Progress | None, every: int = 1000
) -> Iterator[tuple[int, list[str]]]:
    """The rows of `table` to check, as (row number, cells): counted in `result.rows`, with
    progress every `every` rows and at the end, stopping once `result` is full of errors."""
    for number, cells in table.rows():
        result.rows += 1
        yield number, cells
        if result.rows % every == 0:
            tick(table, progress)
        if result.full:
            break
    tick(table, progress)
