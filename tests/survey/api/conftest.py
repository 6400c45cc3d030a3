import pytest

from survey.credentials import issue_api_key, issue_kiosk_token
from survey.extensions import db
from survey.models import Kiosk


@pytest.fixture
def make_api_key(app):
    def make(scopes=("responses:write",), agency=None, name="iGate"):
        row, key = issue_api_key(name, list(scopes), agency.id if agency else None)
        db.session.commit()
        return row, key

    return make


@pytest.fixture
def api_key(make_api_key):
    return make_api_key()[1]


@pytest.fixture
def make_kiosk(app):
    def make(desk, name="Máy tính bảng 1"):
        kiosk = Kiosk(desk=desk, name=name)
        db.session.add(kiosk)
        token = issue_kiosk_token(kiosk)
        db.session.commit()
        return kiosk, token

    return make


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
