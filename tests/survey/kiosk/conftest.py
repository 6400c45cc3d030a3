"""Kiosk fixtures: kiosks with a device token or a pending enrolment code, and an admin."""

from __future__ import annotations

import pytest

from survey.credentials import issue_kiosk_token
from survey.extensions import db
from survey.kiosk import enrolment
from survey.kiosk_settings import WEEKDAYS, KioskSettings
from survey.models import Kiosk, Role

ALWAYS_OPEN = {day: ("00:00", "23:59") for day in WEEKDAYS}


@pytest.fixture
def make_kiosk(app, make_desk):
    """make_kiosk(desk=None, enrolled=True, **settings) -> (kiosk, token or enrolment code)."""

    def make(desk=None, enrolled=True, name="Máy tính bảng sảnh chờ", **settings):
        kiosk = Kiosk(
            desk=desk or make_desk(),
            name=name,
            settings=KioskSettings(**{"hours": ALWAYS_OPEN, **settings}).to_json(),
        )
        db.session.add(kiosk)
        secret = issue_kiosk_token(kiosk) if enrolled else enrolment.start(kiosk)
        db.session.commit()
        return kiosk, secret

    return make


@pytest.fixture
def admin(make_user, login):
    user = make_user(role=Role.ADMIN)
    login(user)
    return user


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
