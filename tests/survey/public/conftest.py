"""The public page's tests run on the demo province (tests/survey/demo_province.py)."""

from tests.survey.demo_province import database_url, demo_today  # noqa: F401
