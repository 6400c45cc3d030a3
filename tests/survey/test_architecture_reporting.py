"""The reporting package owns every number of a report (docs/reporting.md):

- no module under survey/ other than survey/reporting/ imports from another area's `views`
  or `exports` (an area is a package under survey/, e.g. citizen/, dashboard/, review/);
- the layers that show reports (dashboard/, api/report.py, public/ and the `report` command in
  dashboard/cli.py) run no SQL of their own: they call survey.reporting. Writing the audit
  log (`db.session.commit()`) is allowed.

Both checks read the source with `ast`; each is also run on planted violations, so that a
checker that finds nothing cannot pass unnoticed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SURVEY = ROOT / "survey"
AREAS = {p.name for p in SURVEY.iterdir() if (p / "__init__.py").exists()}
SHARED = {"reporting"}  # the package whose renderers every channel uses
REPORT_LAYERS = [
    *sorted((SURVEY / "dashboard").glob("*.py")),
    SURVEY / "api" / "report.py",
    *sorted((SURVEY / "public").glob("*.py")),
]
#: What a report layer may do with the session: commit or roll back its audit log entry.
SESSION_WRITES = {"commit", "rollback"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Full names of the modules (or module.attribute) an import statement names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        return [f"{base}.{alias.name}" for alias in node.names]
    return []


def view_or_export_imports(module: str, source: str, is_package: bool = False) -> list[str]:
    """Imports of another area's `views` or `exports` modules in `module`'s source."""
    parts = module.split(".")
    own_area = parts[1] if len(parts) > 2 or (is_package and len(parts) == 2) else None
    if own_area in SHARED:
        return []
    found = []
    for node in ast.walk(ast.parse(source)):
        for name in _imported(node, module, is_package):
            bits = name.split(".")
            if len(bits) < 3 or bits[0] != "survey" or bits[1] not in AREAS - SHARED:
                continue
            if bits[2] in ("views", "exports") and bits[1] != own_area:
                found.append(f"{module}:{node.lineno} imports {name}")
    return found


def own_sql(module: str, source: str) -> list[str]:
    """SQL a report layer runs itself: SQLAlchemy imported, the session used for anything but
    committing, the engine or a connection used, or `Model.query`."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        for name in _imported(node, module, False):
            if name == "sqlalchemy" or name.startswith("sqlalchemy."):
                found.append(f"{module}:{node.lineno} imports {name}")
        if not isinstance(node, ast.Attribute):
            continue
        chain = []
        value: ast.AST = node
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name):
            chain.append(value.id)
        chain.reverse()
        if chain[:2] == ["db", "session"] and len(chain) == 3 and chain[2] not in SESSION_WRITES:
            found.append(f"{module}:{node.lineno} uses db.session.{chain[2]}")
        elif chain[:2] == ["db", "engine"] and len(chain) == 2:
            found.append(f"{module}:{node.lineno} uses db.engine")
        elif chain[-1] in ("query", "execute", "scalars", "scalar") and chain[0] != "db":
            if chain[0][:1].isupper() or chain[-1] != "query":
                found.append(f"{module}:{node.lineno} calls {'.'.join(chain)}")
    return found


def test_no_module_imports_another_areas_views_or_exports():
    found = []
    for path in sorted(SURVEY.rglob("*.py")):
        found += view_or_export_imports(
            _module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"
        )
    assert found == []


def test_report_layers_run_no_sql_of_their_own():
    assert len(REPORT_LAYERS) >= 6 and all(p.exists() for p in REPORT_LAYERS)
    found = []
    for path in REPORT_LAYERS:
        found += own_sql(_module_name(path), path.read_text(encoding="utf-8"))
    assert found == []


@pytest.mark.parametrize(
    ("module", "source", "package"),
    [
        ("survey.tickets.views", "from survey.citizen.views import page_language\n", False),
        ("survey.navigation", "def f():\n    from survey.review.views import x\n", False),
        ("survey.api.report", "from survey.dashboard import exports\n", False),
        ("survey.admin", "from ..dashboard.views import index\n", True),
        ("survey.kiosk.enrolment", "import survey.citizen.views\n", False),
        ("survey.alerts.mail", "from survey.followup.views import draw\n", False),
    ],
)
def test_a_planted_views_import_is_found(module, source, package):
    assert len(view_or_export_imports(module, source, package)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("survey.citizen.views", "from survey.citizen.forms import survey_form\n"),
        ("survey.dashboard.views", "from survey.dashboard.forms import ReportForm\n"),
        ("survey.review.views", "from survey.review.queue import flagged_count\n"),
        ("survey.reporting.exports", "from survey.reporting import labels\n"),
        ("survey.api.report", "from survey.reporting import exports\n"),
        ("survey.dashboard.views", "from . import views\n"),
    ],
)
def test_imports_within_an_area_or_of_the_reporting_package_are_allowed(module, source):
    assert view_or_export_imports(module, source) == []


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy as sa\n",
        "from sqlalchemy import select\n",
        "agency = db.session.get(Agency, 1)\n",
        "rows = db.session.execute(statement)\n",
        "n = db.session.scalar(q)\n",
        "with db.engine.connect() as c:\n    pass\n",
        "agencies = Agency.query.all()\n",
        "rows = connection.execute(q)\n",
    ],
)
def test_planted_sql_in_a_report_layer_is_found(source):
    assert len(own_sql("survey.dashboard.views", source)) == 1


def test_committing_the_audit_log_and_calling_reporting_are_allowed():
    source = (
        "from survey import reporting\n"
        "report = reporting.report_for(options, scope)\n"
        "audit('report.export', target=report.period.key)\n"
        "db.session.commit()\n"
        "db.session.rollback()\n"
        "q = request.args.get('q')\n"
    )
    assert own_sql("survey.dashboard.views", source) == []
