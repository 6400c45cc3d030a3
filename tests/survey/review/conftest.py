from tests.survey.integrity.conftest import make_response  # noqa: F401
