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


@pytest.fixture
def statements(app):
    """The SQL statements run while it is open, as a list."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", count)


def test_every_desk_is_read_in_one_query_at_the_first_look_up(
    app, make_agency, make_desk, clock, statements
):
    """A process reads all desks at its first look-up, so a province's desks cost one query
    per process and change, not one each; each desk's questionnaire is resolved up the tree
    as `Desk.current_questionnaire` does, with the agencies read in the same pass."""
    other = db.session.scalar(
        sa.select(Questionnaire.id).where(Questionnaire.id != Questionnaire.default().id)
    )
    province = make_agency(questionnaire_id=other)
    district = make_agency(parent=province)
    commune = make_agency(parent=district)
    plain = make_agency()
    desks = [
        make_desk(agency=commune),  # from the province, two levels up
        make_desk(agency=district, questionnaire_id=Questionnaire.default().id),  # its own
        make_desk(agency=plain),  # none on the way: the default
        make_desk(agency=plain, active=False),
    ]
    expected = [
        (d.id, d.code, d.agency.name, d.active, d.current_questionnaire().id) for d in desks
    ]
    assert [e[-1] for e in expected] == [other, *[Questionnaire.default().id] * 3]
    cache.cache().clear()
    cache.desk_by_code(desks[0].code)  # the counter, then the agencies and the desks
    statements.clear()
    for desk_id, code, agency_name, active, _questionnaire_id in expected:
        by_code, by_id = cache.desk_by_code(code), cache.desk_by_id(desk_id)
        assert by_code == by_id
        assert (by_id.id, by_id.agency.name, by_id.active) == (desk_id, agency_name, active)
    assert statements == []
    for desk_id, *_, questionnaire_id in expected:
        assert cache.desk_by_id(desk_id).current_questionnaire().id == questionnaire_id
        # The same snapshot as the one-desk reader gives (kept for desks the snapshot lacks).
        assert cache._desk_info(Desk.__table__.c.id == desk_id) == cache.desk_by_id(desk_id)


def test_a_desk_added_in_sql_behind_the_apps_back_is_found_at_once(app, desk, make_agency, clock):
    """The snapshot of every desk predates it; the look-up by code or id then reads that
    desk alone, and an unknown code is still unknown."""
    agency = make_agency()
    assert cache.desk_by_code(desk.code).id == desk.id  # the snapshot is taken
    behind_the_apps_back(
        f"INSERT INTO desk (agency_id, code, name, active, created_at) "
        f"VALUES ({agency.id}, 'SQL1', 'Quầy SQL', true, CURRENT_TIMESTAMP)",
        bump=False,
    )
    found = cache.desk_by_code("SQL1")
    assert found is not None and found.agency_id == agency.id
    assert cache.desk_by_id(found.id) == found
    assert cache.desk_by_code("NO-SUCH-DESK") is None


def test_threads_that_miss_the_same_entry_wait_for_one_load(app, clock):
    """Every thread of a worker misses the desks' snapshot after a change: one reads it, the
    others wait and take its value; nothing is left behind for keys that load nothing."""
    import threading
    import time

    loads, started, release = [], threading.Event(), threading.Event()

    def load():
        loads.append(1)
        started.set()
        release.wait(5)
        return "value"

    found = []

    def reader():
        with app.app_context():
            found.append(cache.cache().get("slow", load))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    threads[0].start()
    assert started.wait(5)
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.2)  # they reach the lock (without it, each would load: the check can fail)
    release.set()
    for thread in threads:
        thread.join(5)
    assert found == ["value"] * 4
    assert len(loads) == 1
    assert cache.cache().get("nothing", lambda: None) is None
    assert cache.cache()._loading == {}
