# Fixtures for API clients are shared with tests outside tests/survey/api.
from tests.survey.api.conftest import api_key, make_api_key, make_kiosk  # noqa: F401
from tests.survey.cases.conftest import make_case, rate  # noqa: E402,F401
