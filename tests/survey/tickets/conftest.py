from tests.survey.integrity.conftest import make_ticket  # noqa: F401
