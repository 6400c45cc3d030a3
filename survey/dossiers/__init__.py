"""Dossiers behind one-time tickets, and the two files that bring them in.

- `returns`: whether a rating came before the dossier's result was returned;
- `procedures`: each province's procedure list and its import;
- `tickets`: the dossier import, which creates or updates a ticket per dossier;
- `tokens`: ticket tokens for many ids at once, for that import.

Both imports follow `survey.imports`: streamed CSV/XLSX, every row checked, all or nothing,
errors named by row and column, and importing the same file again changes nothing.
"""

from survey.dossiers.procedures import (
    PROCEDURE_CODE,
    PROCEDURE_HEADER,
    import_procedures,
    procedure_names,
    province_of,
    provinces,
)
from survey.dossiers.returns import before_return_clause, local_day, rated_before_return
from survey.dossiers.tickets import DOSSIER_HEADER, import_dossiers

__all__ = [
    "DOSSIER_HEADER",
    "PROCEDURE_CODE",
    "PROCEDURE_HEADER",
    "before_return_clause",
    "import_dossiers",
    "import_procedures",
    "local_day",
    "procedure_names",
    "province_of",
    "provinces",
    "rated_before_return",
]
