"""The analysis package stands alone, documents itself and exposes a stable API."""

import dataclasses
import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import analysis

MODULES = sorted(f"analysis.{info.name}" for info in pkgutil.iter_modules(analysis.__path__)) + [
    "analysis"
]


def test_importing_analysis_pulls_in_no_web_code_and_no_pyplot():
    code = (
        "import sys, analysis, analysis.plots; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'survey', 'werkzeug'} or m == 'matplotlib.pyplot'); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name not in ("analysis", "analysis._validation"):
        assert result.attempted > 0, f"{name} has no doctest example"


def test_every_public_name_is_exported_and_results_are_frozen_dataclasses():
    for name in analysis.__all__:
        assert hasattr(analysis, name)
    for result_type in (
        analysis.ConfidenceInterval,
        analysis.TargetAssessment,
        analysis.FunnelLimits,
        analysis.Overdispersion,
        analysis.PeriodComparison,
        analysis.Shrinkage,
        analysis.WeightedRate,
        analysis.PChart,
        analysis.BernoulliCusum,
        analysis.CusumRunLength,
    ):
        assert dataclasses.is_dataclass(result_type)
        assert result_type.__dataclass_params__.frozen


def test_public_functions_document_a_reference_and_an_example():
    functions = [getattr(analysis, name) for name in analysis.__all__ if name.islower()]
    functions += [
        getattr(importlib.import_module("analysis.plots"), name)
        for name in ("funnel_plot", "forest_plot", "trend_plot")
    ]
    for function in functions:
        assert "References" in function.__doc__
        assert "Examples" in function.__doc__
