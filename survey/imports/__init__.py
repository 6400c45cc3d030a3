"""Streaming, all-or-nothing imports of the agency tree and of paper forms, for web and CLI.

A file is read row by row, never loaded whole. Every row is checked; the first error stops the
writing but not the checking, so that one run reports up to `MAX_ERRORS` problems, each naming
its row and column. Any error rolls the whole transaction back: an import writes everything or
nothing.

- `results`: `ImportResult`, `RowError`, `FileProblem`, and `run`, the one transaction;
- `table`: `Table`, the CSV/XLSX reader (encoding, delimiter, headings, XLSX bomb checks);
- `agencies`: the agency tree's import and export;
- `paper`: the paper-form checks, and the template to fill in;
- `bulk`: the bulk writing (chunks written on a second thread, COPY or SQLite JSON inserts).

The dossier imports (`survey.dossiers`, `survey.dossier_counts`) are built on the same parts.
Files are written by `survey.spreadsheets.write_table`.
"""

from survey.imports.agencies import (
    AGENCY_COLUMNS,
    AGENCY_HEADER,
    AGENCY_REQUIRED,
    export_agencies,
    import_agencies,
)
from survey.imports.bulk import CHUNK, update_by_id
from survey.imports.paper import PAPER_COLUMNS, import_paper, paper_form_key, paper_template
from survey.imports.results import (
    MAX_ERRORS,
    FileProblem,
    ImportResult,
    Progress,
    RowError,
    audit_written,
    each_row,
    run,
    tick,
)
from survey.imports.table import (
    EARLIEST,
    Table,
    by_name,
    check_xlsx_parts,
    header_key,
    parse_date,
)
from survey.spreadsheets import write_table

__all__ = [
    "AGENCY_COLUMNS",
    "AGENCY_HEADER",
    "AGENCY_REQUIRED",
    "CHUNK",
    "EARLIEST",
    "MAX_ERRORS",
    "PAPER_COLUMNS",
    "FileProblem",
    "ImportResult",
    "Progress",
    "RowError",
    "Table",
    "audit_written",
    "by_name",
    "each_row",
    "check_xlsx_parts",
    "export_agencies",
    "header_key",
    "import_agencies",
    "import_paper",
    "paper_form_key",
    "paper_template",
    "parse_date",
    "run",
    "tick",
    "update_by_id",
    "write_table",
]
