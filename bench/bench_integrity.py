"""False-flag rate of the burst rules on the demo data, detection of a scripted burst, and the
cost of the check on each insert.

Run: .venv/bin/python bench/bench_integrity.py

The demo data (survey.demo.seed, today = 2026-11-21) has no client addresses or kiosk ids, so
the script gives it clients in two scenarios and replays every response through
survey.integrity.screen in the order it happened (survey.integrity.replay):

  own address   each QR rating comes from its own phone (mobile data, the usual case)
  desk wifi     every QR rating of a desk on a given day comes from ONE address, as if every
                citizen used the agency's guest Wi-Fi (the worst case for client_burst)

Kiosk ratings come from one kiosk per desk in both. Results go in docs/integrity.md.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.harness import machine  # noqa: E402
from survey import create_app, demo, integrity  # noqa: E402
from survey.extensions import db  # noqa: E402
from survey.models import Channel, Desk, Kiosk, Response, Status  # noqa: E402

TODAY = date(2026, 11, 21)


def give_clients(shared_wifi: bool) -> None:
    """Synthetic client hashes for QR ratings and one kiosk per desk for kiosk ratings."""
    kiosks = {}
    for desk in db.session.scalars(sa.select(Desk)):
        kiosk = Kiosk(desk=desk, name=f"Kiosk {desk.code}")
        db.session.add(kiosk)
        kiosks[desk.id] = kiosk
    db.session.flush()
    rows = db.session.execute(
        sa.select(Response.id, Response.desk_id, Response.channel, Response.occurred_at)
    ).all()
    for response_id, desk_id, channel, occurred_at in rows:
        values = {}
        if channel == Channel.QR:
            local_day = (occurred_at + timedelta(hours=7)).date()
            values["client_hash"] = (
                f"wifi-{desk_id}-{local_day}" if shared_wifi else uuid.uuid4().hex
            )
        elif channel == Channel.KIOSK:
            values["kiosk_id"] = kiosks[desk_id].id
        if values:
            db.session.execute(
                sa.update(Response).where(Response.id == response_id).values(**values)
            )
    db.session.commit()


def scripted_burst(desk: Desk, count: int = 50, seconds: int = 120) -> tuple[int, int]:
    """`count` QR ratings from one client to one desk within `seconds`, through record()."""
    from survey.responses import Submission, record

    start = datetime(2026, 11, 20, 3, 0)  # 10:00 in Vietnam
    questionnaire = desk.current_questionnaire()
    ids = []
    for i in range(count):
        stored, _ = record(
            Submission(
                id=uuid.uuid4(),
                desk=desk,
                questionnaire=questionnaire,
                channel=Channel.QR,
                level="rat_hai_long",
                occurred_at=start + timedelta(seconds=i * seconds / count),
                client_hash="one-script",
            )
        )
        ids.append(stored.id)
    flagged = db.session.scalar(
        sa.select(sa.func.count()).where(Response.id.in_(ids), Response.status == Status.FLAGGED)
    )
    return flagged, count


def run(shared_wifi: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "CONFIG_NAME": "testing",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
                "SECRET_KEY": "bench-" + uuid.uuid4().hex,
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            demo.seed("bench-password", today=TODAY)
            give_clients(shared_wifi)
            start = time.perf_counter()
            summary = integrity.replay()
            elapsed = time.perf_counter() - start
            name = "desk wifi  " if shared_wifi else "own address"
            print(
                f"{name}: {summary.flagged} of {summary.total} demo responses flagged "
                f"({summary.rate:.3%}) {summary.by_rule or ''}; replay {elapsed:.1f} s, "
                f"{elapsed / summary.total * 1000:.2f} ms per response"
            )
            desk = db.session.scalar(sa.select(Desk).order_by(Desk.code))
            flagged, count = scripted_burst(desk)
            print(f"             scripted burst: {flagged} of {count} flagged")
            db.engine.dispose()


def busy_desk(per_hour: int, days: int = 20, seed: int = 6) -> tuple[int, int]:
    """A desk whose QR ratings arrive at random (Poisson) at `per_hour` in office hours
    (07:30-11:30, 13:30-16:30 local), every one from the same address (desk Wi-Fi)."""
    from survey.models import Agency, Level
    from survey.responses import Submission, record

    rng = random.Random(seed)
    agency = Agency(code=f"BUSY{per_hour}", name="Busy", level=Level.COMMUNE)
    desk = Desk(agency=agency, code=f"BUSY{per_hour}-Q1", name="Busy desk")
    db.session.add_all([agency, desk])
    db.session.commit()
    questionnaire = desk.current_questionnaire()
    total = 0
    for day in range(days):
        base = datetime(2026, 10, 1) + timedelta(days=day) - timedelta(hours=7)
        for first, last in ((7.5, 11.5), (13.5, 16.5)):
            hour = first
            while True:
                hour += rng.expovariate(per_hour)
                if hour >= last:
                    break
                record(
                    Submission(
                        id=uuid.uuid4(),
                        desk=desk,
                        questionnaire=questionnaire,
                        channel=Channel.QR,
                        level="hai_long",
                        occurred_at=base + timedelta(hours=hour),
                        client_hash=f"wifi-{day}",
                    )
                )
                total += 1
    flagged = db.session.scalar(
        sa.select(sa.func.count()).where(
            Response.desk_id == desk.id, Response.status == Status.FLAGGED
        )
    )
    return flagged, total


def busy_desks() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "CONFIG_NAME": "testing",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'busy.db'}",
                "SECRET_KEY": "bench-" + uuid.uuid4().hex,
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            for per_hour in (2, 5, 10, 20, 30):
                flagged, total = busy_desk(per_hour)
                print(
                    f"busy desk, all on one Wi-Fi, {per_hour:>2} QR ratings/hour: "
                    f"{flagged} of {total} flagged ({flagged / total:.1%})"
                )
            db.engine.dispose()


def main() -> None:
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    for shared in (False, True):
        run(shared)
    busy_desks()


if __name__ == "__main__":
    main()
