"""The direction of imports that docs/development.md draws, checked on the source (AST).

- No module imports another area's views (a module that puts routes on a blueprint): what two
  areas share lives in a module without routes (`survey.links`, `survey.credentials`,
  `survey.payloads`, `survey.review.queue`, `survey.languages.packs`...).
- `analysis/` imports nothing of `survey/`, Flask or SQLAlchemy: it is plain statistics.
- The kiosk area imports nothing of the API; the API reaches the kiosk area only through its
  device module (`survey.kiosk.device`, what the kiosk API tells a device), never its pages.

Every import counts, also one inside a function. Each rule is proved able to fail on a planted
module at the end of this file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROUTE = re.compile(r"^@\w*bp\.(route|get|post|put|patch|delete)\(", re.M)
STATISTICS_MAY_NOT_IMPORT = ("survey", "flask", "flask_babel", "flask_sqlalchemy", "sqlalchemy")
API_MAY_IMPORT_OF_KIOSK = {"survey.kiosk.device"}


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


def imported(source: str) -> set[str]:
    """Every module `source` imports, and for `from m import x` also `m.x` (x may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def area(module: str) -> str | None:
    """`survey.<area>` for a module of an area package, else None (e.g. survey.links)."""
    parts = module.split(".")
    if parts[0] == "survey" and len(parts) > 1 and (ROOT / "survey" / parts[1]).is_dir():
        return ".".join(parts[:2])
    return None


def violations(sources: dict[str, str]) -> list[str]:
    """The imports in `sources` (module name -> source text) that break a rule."""
    views = {name for name, text in sources.items() if ROUTE.search(text)}
    found = []
    for name, text in sources.items():
        for target in sorted(imported(text)):
            top = target.split(".")[0]
            if name.startswith("analysis") and top in STATISTICS_MAY_NOT_IMPORT:
                found.append(f"{name} -> {target}: analysis/ is plain statistics")
            if target in views and area(target) != area(name):
                found.append(f"{name} -> {target}: another area's views")
            if name.startswith("survey.kiosk") and target.startswith("survey.api"):
                found.append(f"{name} -> {target}: the kiosk area imports nothing of the API")
            if (
                name.startswith("survey.api")
                and target.startswith("survey.kiosk.")
                and not any(target.startswith(allowed) for allowed in API_MAY_IMPORT_OF_KIOSK)
            ):
                found.append(f"{name} -> {target}: the API uses only survey.kiosk.device")
    return found


def tree_sources() -> dict[str, str]:
    paths = [*ROOT.glob("survey/**/*.py"), *ROOT.glob("analysis/**/*.py")]
    return {module_name(path): path.read_text(encoding="utf-8") for path in paths}


def test_the_tree_keeps_the_direction_of_imports():
    sources = tree_sources()
    assert len([n for n in sources if n.startswith("analysis")]) >= 5  # the tree was found
    assert len([n for n in sources if ROUTE.search(sources[n])]) >= 20  # and its views
    assert violations(sources) == []


def test_a_view_importing_another_areas_view_is_refused():
    sources = {
        "survey.citizen.views": "@bp.route('/s')\ndef survey(): ...\n",
        "survey.tickets.views": "def f():\n    from survey.citizen.views import survey\n",
        "survey.citizen.forms": "from survey.citizen.views import survey\n",  # its own area
    }
    assert violations(sources) == [
        "survey.tickets.views -> survey.citizen.views: another area's views"
    ]


def test_analysis_importing_the_web_app_is_refused():
    sources = {"analysis.planted": "import numpy\nfrom survey.models import Response\n"}
    assert violations(sources) == [
        "analysis.planted -> survey.models: analysis/ is plain statistics",
        "analysis.planted -> survey.models.Response: analysis/ is plain statistics",
    ]


def test_the_kiosk_importing_the_api_and_the_api_the_kiosk_pages_are_refused():
    sources = {
        "survey.kiosk.device": "from survey.api.auth import require\n",
        "survey.api.kiosk": "from survey.kiosk.device import server_time\nimport survey.kiosk.admin\n",
    }
    assert violations(sources) == [
        "survey.kiosk.device -> survey.api.auth: the kiosk area imports nothing of the API",
        "survey.kiosk.device -> survey.api.auth.require: the kiosk area imports nothing of the API",
        "survey.api.kiosk -> survey.kiosk.admin: the API uses only survey.kiosk.device",
    ]
