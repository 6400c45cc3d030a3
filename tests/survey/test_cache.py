"""The per-process caches (survey/cache.py): what they hold is dropped when an admin changes it,
and a revoked API key is refused within the stated bound, on SQLite and PostgreSQL.

Time is a fake clock: the tests never sleep."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from survey import cache
from survey.citizen.forms import survey_form
from survey.extensions import db
from survey.models import ApiKey, CacheVersion, Desk, Questionnaire, utcnow
from tests.survey.api.conftest import bearer


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app):
    clock = Clock()
    cache.cache().clock = clock
    cache.cache().clear()
    return clock


def submit(client, desk, key):
    body = {"id": str(uuid.uuid4()), "desk": desk.code, "level": "hai_long"}
    return client.post("/api/v1/responses", json=body, headers=bearer(key))


def behind_the_apps_back(statement: str, bump: bool) -> None:
    """A change made by another process (`bump`: through its app, which moves the counter) or
    by hand in SQL: on a connection of its own, without this process's session events."""
    with db.engine.begin() as connection:
        connection.execute(sa.text(statement))
        if bump:
            connection.execute(sa.text("UPDATE cache_version SET version = version + 1"))


def version() -> int:
    return db.session.scalar(sa.select(CacheVersion.version))


def test_a_key_revoked_in_this_process_is_refused_at_once(client, desk, make_api_key, clock):
    row, key = make_api_key()
    assert submit(client, desk, key).status_code == 201
    before = version()
    row.revoked_at = utcnow()
    db.session.commit()
    assert version() == before + 1
    assert submit(client, desk, key).status_code == 401


def test_a_key_revoked_by_another_process_is_refused_within_the_check_interval(
    app, client, desk, make_api_key, clock
):
    row, key = make_api_key()
    assert submit(client, desk, key).status_code == 201
    behind_the_apps_back(f"UPDATE api_key SET revoked_at = '2026-01-01' WHERE id = {row.id}", True)
    # Within the interval the process still trusts what it holds: the bound is real, not zero.
    clock.now += app.config["CACHE_CHECK_SECONDS"] / 2
    assert submit(client, desk, key).status_code == 201
    clock.now += app.config["CACHE_CHECK_SECONDS"]
    assert submit(client, desk, key).status_code == 401


def test_a_key_revoked_by_hand_in_sql_is_refused_within_its_time_to_live(
    app, client, desk, make_api_key, clock
):
    row, key = make_api_key()
    assert submit(client, desk, key).status_code == 201
    behind_the_apps_back(f"UPDATE api_key SET revoked_at = '2026-01-01' WHERE id = {row.id}", False)
    clock.now += app.config["API_KEY_CACHE_SECONDS"] - 0.5
    assert submit(client, desk, key).status_code == 201
    clock.now += 1
    assert submit(client, desk, key).status_code == 401
    assert app.config["API_KEY_CACHE_SECONDS"] <= 10


def test_a_desk_closed_by_an_admin_stops_taking_ratings_at_once(
    client, desk, api_key, make_api_key, clock
):
    assert submit(client, desk, api_key).status_code == 201
    # A bulk update through the session (as the agency merge does) moves the counter too.
    db.session.execute(sa.update(Desk).where(Desk.id == desk.id).values(active=False))
    db.session.commit()
    assert submit(client, desk, api_key).status_code == 422


def test_a_desk_closed_by_another_process_is_noticed_at_the_next_check(
    app, client, desk, api_key, clock
):
    assert submit(client, desk, api_key).status_code == 201
    behind_the_apps_back(f"UPDATE desk SET active = false WHERE id = {desk.id}", True)
    clock.now += app.config["CACHE_CHECK_SECONDS"]
    assert submit(client, desk, api_key).status_code == 422


def test_a_rolled_back_change_moves_nothing(desk, clock):
    before = version()
    desk.name = "Quầy 2"
    db.session.flush()
    db.session.rollback()
    assert version() == before


def test_the_form_class_is_built_once_per_version_and_locale(app, clock):
    questionnaire = cache.default_questionnaire()
    with app.test_request_context():
        vi, vi_again = survey_form(questionnaire, "vi"), survey_form(questionnaire, "vi")
        en = survey_form(questionnaire, "en")
        ticket = survey_form(questionnaire, "vi", with_dossier=False)
    assert type(vi) is type(vi_again)
    assert type(vi) is not type(en) and type(vi) is not type(ticket)
    assert vi.rating.choices[0].label != en.rating.choices[0].label


def test_cached_questionnaires_are_published_copies_outside_the_session(app, clock):
    questionnaire = cache.default_questionnaire()
    assert questionnaire.is_published
    assert questionnaire not in db.session
    assert cache.default_questionnaire() is questionnaire
    stored = db.session.get(Questionnaire, questionnaire.id)
    assert (questionnaire.levels, questionnaire.satisfied) == (stored.levels, stored.satisfied)


def test_revoking_through_the_cli_moves_the_counter(runner, make_api_key, clock):
    row, _key = make_api_key()
    before = version()
    result = runner.invoke(args=["revoke-api-key", row.prefix])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(ApiKey, row.id).revoked_at is not None
    assert version() > before
