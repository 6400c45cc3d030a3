# Fixtures shared with tests outside their folder: API clients, cases, and the demo province's
# template databases (seeded once per session, for every folder that runs on the demo province).
from tests.survey.api.conftest import api_key, make_api_key, make_kiosk  # noqa: F401
from tests.survey.cases.conftest import make_case, rate  # noqa: F401
from tests.survey.demo_province import demo_postgres_template, demo_sqlite_template  # noqa: F401
