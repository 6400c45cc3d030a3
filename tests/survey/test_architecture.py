"""The direction of imports that docs/development.md draws, checked on the source (AST).

- No module imports another area's views (a module that puts routes on a blueprint): what two
  areas share lives in a module without routes (`survey.links`, `survey.credentials`,
  `survey.payloads`, `survey.review.queue`, `survey.languages.packs`...).
- `analysis/` imports nothing of `survey/`, Flask or SQLAlchemy: it is plain statistics.
- The kiosk area and the API import nothing of each other: what both need (a kiosk's settings,
  `survey.kiosk_settings`) lives outside both, and what the kiosk API tells a device is the
  API's own (`survey.api.kiosk_device`).

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
            if area(name) == "survey.kiosk" and area(target) == "survey.api":
                found.append(f"{name} -> {target}: the kiosk area imports nothing of the API")
            if area(name) == "survey.api" and area(target) == "survey.kiosk":
                found.append(f"{name} -> {target}: the API imports nothing of the kiosk area")
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


def test_the_kiosk_and_the_api_importing_each_other_are_refused():
    sources = {
        "survey.kiosk.enrolment": "from survey.api.auth import require\n",
        "survey.api.kiosk_device": "from survey.kiosk.enrolment import enrol\n",
        "survey.api.kiosk": "import survey.kiosk\nfrom survey.kiosk_settings import KioskSettings\n",
    }
    assert violations(sources) == [
        "survey.kiosk.enrolment -> survey.api.auth: the kiosk area imports nothing of the API",
        "survey.kiosk.enrolment -> survey.api.auth.require: the kiosk area imports nothing of the API",
        "survey.api.kiosk_device -> survey.kiosk.enrolment: the API imports nothing of the kiosk area",
        "survey.api.kiosk_device -> survey.kiosk.enrolment.enrol: the API imports nothing of the kiosk area",
        "survey.api.kiosk -> survey.kiosk: the API imports nothing of the kiosk area",
    ]
