"""The reporting package owns every number of a report (docs/reporting.md):

- no module under survey/ other than survey/reporting/ imports from another area's `views`
  or `exports` (an area is a package under survey/, e.g. citizen/, dashboard/, review/);
- the layers that show reports (dashboard/, api/report.py, public/ and the `report` command in
  dashboard/cli.py) run no SQL of their own: they call survey.reporting. Writing the audit
  log (`db.session.commit()`) is allowed.

- the renderers (survey/reporting/: html, charts, pdf, document, exports) receive a finished
  `Report` and never query: no function of theirs runs SQL or calls, at any depth, a function
  under survey/ that does; only `exports.export`, `exports.prepare` and
  `exports.progress_steps` attach what a format needs before rendering.

The checks read the source with `ast`; each is also run on planted violations, so that a
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
RENDERERS = [
    SURVEY / "reporting" / f"{name}.py" for name in ("html", "charts", "pdf", "document", "exports")
]
#: The renderers' functions that attach the parts a format needs to the report, before it is
#: rendered: the only ones that may query.
ATTACHERS = {
    "survey.reporting.exports.export",
    "survey.reporting.exports.prepare",
    "survey.reporting.exports.progress_steps",
}
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


def _aliases(tree: ast.AST, module: str, is_package: bool) -> dict[str, str]:
    """{local name: the module or module.attribute it stands for}, over every import of the
    module, at any depth (a function's own imports included)."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    found[top] = top
        elif isinstance(node, ast.ImportFrom):
            names = _imported(node, module, is_package)
            for alias, name in zip(node.names, names, strict=True):
                found[alias.asname or alias.name] = name
    return found


def _dotted(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _functions(module: str, source: str, is_package: bool = False) -> dict[str, tuple]:
    """{qualified name: (runs SQL itself, qualified names it calls)} for the module's
    top-level functions; a call resolves through the module's imports or to a function of
    the same module."""
    tree = ast.parse(source)
    aliases = _aliases(tree, module, is_package)
    defined = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        calls = set()
        for call in ast.walk(node):
            if not isinstance(call, ast.Call) or (parts := _dotted(call.func)) is None:
                continue
            if parts[0] in aliases:
                calls.add(".".join([aliases[parts[0]], *parts[1:]]))
            elif len(parts) == 1 and parts[0] in defined:
                calls.add(f"{module}.{parts[0]}")
        direct = bool(own_sql(module, ast.unparse(node)))
        out[f"{module}.{node.name}"] = (direct, calls)
    return out


def querying_functions() -> set[str]:
    """Qualified names of the functions under survey/ that run SQL, themselves or through a
    function they call (to a fixed point)."""
    table = {}
    for path in sorted(SURVEY.rglob("*.py")):
        table.update(
            _functions(
                _module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"
            )
        )
    found = {name for name, (direct, _calls) in table.items() if direct}
    while True:
        more = {name for name, (_d, calls) in table.items() if calls & found} - found
        if not more:
            return found
        found |= more


def renderer_queries(module: str, source: str, querying: set[str]) -> list[str]:
    """The functions of a renderer module, other than `ATTACHERS`, that query."""
    return sorted(
        name
        for name, (direct, calls) in _functions(module, source).items()
        if name not in ATTACHERS and (direct or calls & querying)
    )


@pytest.fixture(scope="module")
def querying() -> set[str]:
    return querying_functions()


def test_renderers_receive_a_finished_report_and_never_query(querying):
    # The checker sees the queries renderers must leave to the report's building.
    assert {
        "survey.reporting.counts.comment_texts",
        "survey.reporting.themes.comment_themes",
        "survey.reporting.dossier_splits.dossier_splits",
        "survey.reporting.detail.with_themes",
        "survey.reporting.exports.prepare",
    } <= querying
    found = []
    for path in RENDERERS:
        found += renderer_queries(_module_name(path), path.read_text(encoding="utf-8"), querying)
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        # The official document's comment themes, read while rendering.
        "from survey.reporting import labels, themes\n"
        "def _themes(doc, report):\n"
        "    return themes.comment_themes(report.period, {r.id for r in report.rows})\n",
        "def _section(report):\n"
        "    from survey.reporting.dossier_splits import dossier_splits\n"
        "    return dossier_splits(1, {1}, report.period)\n",
        "from survey.extensions import db\n"
        "def _names(report):\n"
        "    return db.session.scalars(statement)\n",
        "from survey.reporting import counts as sql\n"
        "def _helper(report):\n"
        "    return sql.comment_texts(report.period, set())\n"
        "def to_pdf(report):\n"
        "    return _helper(report)\n",
    ],
)
def test_a_planted_query_in_a_renderer_is_found(source, querying):
    found = renderer_queries("survey.reporting.document", source, querying)
    assert found and all(name.startswith("survey.reporting.document.") for name in found)


def test_no_module_imports_another_areas_views_or_exports():
    found = []
    paths = sorted(SURVEY.rglob("*.py"))
    assert len(paths) > 100, "expected the modules of survey/"
    for path in paths:
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
