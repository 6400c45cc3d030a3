# Fixtures for API clients are shared with tests outside tests/survey/api.
from tests.survey.api.conftest import api_key, make_api_key, make_kiosk  # noqa: F401
