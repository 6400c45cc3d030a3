"""Dashboard tests run on the demo province (tests/survey/demo_province.py)."""

from tests.survey.demo_province import (  # noqa: F401
    DEMO_TODAY,
    QUARTER,
    agency,
    analyst,
    database_url,
    demo_today,
    rows_by_code,
    signed_in,
)
