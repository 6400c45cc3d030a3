"""Burst detection: scripted bursts are flagged, normal traffic is not (docs/integrity.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import g

from survey import demo, integrity
from survey.extensions import db
from survey.models import Agency, Channel, Desk, Kiosk, Response, Status, utcnow
from survey.responses import Submission, record
from tests.conftest import count, form_fields
from tests.survey.integrity.conftest import bearer


def statuses() -> list[tuple[str, str | None]]:
    db.session.expire_all()
    return db.session.execute(
        sa.select(Response.status, Response.status_reason).order_by(Response.occurred_at)
    ).all()


def rate_from_phone(client, path, address="203.0.113.7", **data):
    """One citizen visit from a fresh browser (a script keeps no cookies)."""
    client = client.application.test_client()
    # The test app context outlives requests: forget the CSRF token Flask-WTF caches in g.
    g.pop("csrf_token", None)
    environ = {"REMOTE_ADDR": address}
    fields = form_fields(client.get(path, environ_base=environ))
    fields.update({"rating": "rat_hai_long", **data})
    return client.post(path, data=fields, environ_base=environ)


def store(desk, when, channel=Channel.QR, client_hash=None, kiosk_id=None):
    return record(
        Submission(
            id=uuid.uuid4(),
            desk=desk,
            questionnaire=desk.current_questionnaire(),
            channel=channel,
            level="hai_long",
            occurred_at=when,
            client_hash=client_hash,
            kiosk_id=kiosk_id,
        )
    )[0]


def test_scripted_burst_of_50_ratings_from_one_client_in_two_minutes_is_all_flagged(
    client, survey_path
):
    for _ in range(50):
        assert rate_from_phone(client, survey_path).status_code == 303
    assert count(Response) == 50  # stored, never dropped
    assert statuses() == [(Status.FLAGGED, integrity.CLIENT_BURST)] * 50


def test_a_burst_flags_its_own_clients_ratings_only(desk):
    """The burst's window is one client at one desk: other citizens' ratings of the desk in
    the same minutes, and the same client's at another desk, stay valid."""
    other_desk = Desk(agency=desk.agency, code="D-OTHER", name="Quầy 2")
    db.session.add(other_desk)
    db.session.commit()
    start = utcnow() - timedelta(minutes=5)
    for i in range(4):
        store(desk, start + timedelta(seconds=10 * i), client_hash="bystander")
        store(other_desk, start + timedelta(seconds=10 * i + 1), client_hash="script")
        store(desk, start + timedelta(seconds=10 * i + 2), client_hash="script")
    store(desk, start + timedelta(seconds=50), client_hash="script")  # the 5th in 10 minutes
    found = db.session.execute(
        sa.select(Response.desk_id, Response.client_hash, Response.status)
    ).all()
    flagged = {(d, c) for d, c, status in found if status == Status.FLAGGED}
    assert flagged == {(desk.id, "script")}
    assert sum(1 for d, c, status in found if status == Status.FLAGGED) == 5


def test_four_ratings_from_one_client_are_not_flagged(client, survey_path):
    for _ in range(4):
        rate_from_phone(client, survey_path)
    assert statuses() == [(Status.VALID, None)] * 4


def test_ratings_from_different_addresses_are_not_a_burst(client, survey_path):
    for i in range(12):
        assert rate_from_phone(client, survey_path, address=f"198.51.100.{i}").status_code == 303
    assert {status for status, _ in statuses()} == {Status.VALID}


def test_no_raw_address_is_stored_only_a_keyed_hash(client, survey_path):
    rate_from_phone(client, survey_path, address="198.51.100.77")
    stored = db.session.scalar(sa.select(Response))
    assert stored.client_hash and "198.51.100.77" not in stored.client_hash
    assert len(stored.client_hash) == 32


def test_integrator_submissions_from_one_server_are_not_a_burst(client, desk, make_api_key):
    _, key = make_api_key()
    for _ in range(8):
        body = {"id": str(uuid.uuid4()), "desk": desk.code, "level": "hai_long"}
        assert client.post("/api/v1/responses", json=body, headers=bearer(key)).status_code == 201
    assert {status for status, _ in statuses()} == {Status.VALID}


def test_rapid_ratings_from_one_kiosk_are_flagged(desk):
    kiosk = Kiosk(desk=desk, name="Máy 1")
    db.session.add(kiosk)
    db.session.commit()
    start = utcnow() - timedelta(minutes=30)
    for i in range(8):
        store(desk, start + timedelta(seconds=10 * i), Channel.KIOSK, kiosk_id=kiosk.id)
    assert statuses() == [(Status.FLAGGED, integrity.KIOSK_BURST)] * 8


def test_a_steady_kiosk_is_not_flagged(desk):
    kiosk = Kiosk(desk=desk, name="Máy 1")
    db.session.add(kiosk)
    db.session.commit()
    start = utcnow() - timedelta(hours=2)
    for i in range(10):
        store(desk, start + timedelta(minutes=3 * i), Channel.KIOSK, kiosk_id=kiosk.id)
    assert {status for status, _ in statuses()} == {Status.VALID}


def _usual_traffic(desk, per_hour: int, days: int, end: datetime) -> None:
    """`per_hour` ratings in each of 4 office hours a day, spread evenly, before `end`."""
    rows = []
    questionnaire = desk.current_questionnaire()
    for day in range(1, days + 1):
        for hour in range(4):
            for i in range(per_hour):
                when = end - timedelta(days=day, hours=hour, minutes=60 * i / per_hour)
                rows.append(
                    Response(
                        id=uuid.uuid4(),
                        desk_id=desk.id,
                        agency_id=desk.agency_id,
                        questionnaire_id=questionnaire.id,
                        channel=Channel.QR,
                        level="hai_long",
                        satisfied=True,
                        occurred_at=when,
                        received_at=when,
                        content_hash="x",
                        client_hash=uuid.uuid4().hex,
                    )
                )
    db.session.add_all(rows)
    db.session.commit()


def test_desk_surge_flags_ratings_above_the_usual_volume(desk):
    now = utcnow()
    _usual_traffic(desk, per_hour=2, days=5, end=now)
    for i in range(25):  # 25 citizens with their own phones within one hour
        store(desk, now - timedelta(minutes=50) + timedelta(minutes=2 * i), client_hash=f"c{i}")
    recent = db.session.execute(
        sa.select(Response.status, Response.status_reason)
        .where(Response.occurred_at >= now - timedelta(hours=1))
        .order_by(Response.occurred_at)
    ).all()
    assert recent[:20] == [(Status.VALID, None)] * 20
    assert recent[20:] == [(Status.FLAGGED, integrity.DESK_SURGE)] * 5


def test_a_desk_that_is_usually_busy_is_not_a_surge_at_its_usual_volume(desk):
    now = utcnow()
    _usual_traffic(desk, per_hour=30, days=3, end=now)
    for i in range(30):
        store(desk, now - timedelta(minutes=59) + timedelta(minutes=2 * i), client_hash=f"c{i}")
    assert db.session.scalar(sa.select(sa.func.count()).where(Response.status != Status.VALID)) == 0


def test_a_busy_desk_needs_an_improbable_count_from_one_address(desk):
    """At 30 ratings an hour, 6 from the desk's Wi-Fi in 10 minutes is chance, not a burst."""
    now = utcnow()
    _usual_traffic(desk, per_hour=30, days=3, end=now)
    for i in range(6):
        store(desk, now - timedelta(minutes=9 - i), client_hash="desk-wifi")
    assert db.session.scalar(sa.select(sa.func.count()).where(Response.status != Status.VALID)) == 0
    for i in range(40):  # a script, 40 more within two minutes
        store(desk, now + timedelta(seconds=3 * i), client_hash="desk-wifi")
    flagged = db.session.scalar(
        sa.select(sa.func.count()).where(
            Response.client_hash == "desk-wifi", Response.status == Status.FLAGGED
        )
    )
    assert flagged == 46


def test_improbable_count_follows_the_poisson_tail():
    # P(N >= 5 | mean 0.33) is about 2.6e-5 <= 1e-4, P(N >= 4) about 4e-4.
    assert integrity.improbable_count(1 / 3, 1e-4) == 5
    assert integrity.improbable_count(0.0, 1e-4) == 1
    assert integrity.improbable_count(5.0, 1e-4) == 16  # P(N >= 16 | 5) = 6.9e-5


def test_a_reviewed_response_is_not_flagged_again_by_a_later_burst(client, survey_path):
    rate_from_phone(client, survey_path)
    first = db.session.scalar(sa.select(Response))
    first.status_reason = "checked by phone with the citizen"
    db.session.commit()
    for _ in range(5):
        rate_from_phone(client, survey_path)
    db.session.refresh(first)
    assert first.status == Status.VALID
    assert count(Response) == 6
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Response.status == Status.FLAGGED)) == 5
    )


def test_a_second_rating_of_the_desk_from_the_same_browser_is_flagged(client, survey_path):
    fields = form_fields(client.get(survey_path))
    assert client.post(survey_path, data={**fields, "rating": "hai_long"}).status_code == 303
    again = form_fields(client.get(survey_path + "?new=1"))
    assert again["response_id"] != fields["response_id"]
    assert client.post(survey_path, data={**again, "rating": "rat_hai_long"}).status_code == 303
    assert statuses() == [(Status.VALID, None), (Status.FLAGGED, integrity.REPEAT_BROWSER)]


def test_pressing_send_twice_is_not_a_repeat(client, survey_path):
    fields = {**form_fields(client.get(survey_path)), "rating": "hai_long"}
    client.post(survey_path, data=fields)
    client.post(survey_path, data=fields)
    assert statuses() == [(Status.VALID, None)]


def test_normal_demo_traffic_is_not_flagged(app):
    """The two busiest demo agencies, every QR rating of a desk and day through ONE address
    (the desk's Wi-Fi, the worst case), every kiosk rating through one kiosk per desk."""
    demo.seed("demo-password", today=date(2026, 11, 21))
    busiest = db.session.scalars(sa.select(Agency.id).where(Agency.code.in_(["BVDK", "PHT"])))
    agency_ids = list(busiest)
    kiosks = {}
    for desk in db.session.scalars(sa.select(Desk).where(Desk.agency_id.in_(agency_ids))):
        kiosks[desk.id] = Kiosk(desk=desk, name="Máy 1")
        db.session.add(kiosks[desk.id])
    db.session.flush()
    in_scope = Response.agency_id.in_(agency_ids)
    for desk_id, kiosk in kiosks.items():
        db.session.execute(
            sa.update(Response)
            .where(Response.desk_id == desk_id, Response.channel == Channel.KIOSK)
            .values(kiosk_id=kiosk.id)
        )
        db.session.execute(
            sa.update(Response)
            .where(Response.desk_id == desk_id, Response.channel == Channel.QR)
            .values(client_hash=f"wifi-{desk_id}")
        )
    db.session.commit()
    summary = integrity.replay(in_scope)
    assert summary.total > 1000
    assert summary.flagged == 0, summary.by_rule
