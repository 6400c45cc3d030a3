"""Everything about a report, from the SQL counts to the rendered files.

One package, one module per concern:

- `options`: `ReportOptions` and `parse_options`, the one parser of report options;
- `counts`: every SQL statement a report runs (the only module here that queries);
- `targets`: `TargetResolver`, which target applies to an agency;
- `table`: `build_report`, the agency table and summary as a finished `Report`;
- `detail`: one agency in depth (criteria, channels, desks, levels, hours, trend, comments);
- `labels`, `formatting`, `columns`: codes and their labels, numbers in the reader's language,
  the declared columns of the table;
- renderers, which take a finished `Report` and never query: `html` (the dashboard's table),
  `charts` (figures and their data), `exports` (CSV, Excel, JSON; `export()` for any format),
  `pdf`.

The dashboard, the agency page, the API, the `report` command and the public page are thin
layers over `build_report` and these renderers, so they all show the same numbers.
"""

from survey.reporting.counts import Counts
from survey.reporting.options import OptionError, ReportOptions, parse_options
from survey.reporting.table import (
    Report,
    Row,
    Summary,
    build_report,
    find_agency,
    overdispersion,
    report_for,
)
from survey.reporting.targets import TargetResolver, TargetRule

__all__ = [
    "Counts",
    "OptionError",
    "Report",
    "ReportOptions",
    "Row",
    "Summary",
    "TargetResolver",
    "TargetRule",
    "build_report",
    "find_agency",
    "overdispersion",
    "parse_options",
    "report_for",
]
