"""How long a process takes to read every desk at its first look-up (`survey.cache`), against
reading each desk alone as before, at several sizes of desk table.

    .venv/bin/python bench/bench_desk_snapshot.py [--db postgresql] [--desks 2000,20000,50000]

(The default sizes are 2,000 and 20,000 desks: reading 50,000 desks one by one five times
takes about 6 minutes on PostgreSQL.)

For each size it migrates a throw-away database (bench/harness.py), adds one agency tree (a
province, 50 districts, the desks spread over their communes, the questionnaire set on the
province only, so each desk's is found two levels up) and times, in the same run and
alternating, the median of 5:
- the snapshot: `survey.cache._load_all_desks()` (two queries, then the snapshots);
- the one-desk reader `survey.cache._desk_info` for every desk, what a process did before
  when it met each desk for the first time (per desk and in all).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    postgres_database,
    postgres_url,
    sqlite_database,
    workspace,
)


def measure(kind: str, desks: int, runs: int = 5) -> None:
    import sqlalchemy as sa

    from survey import cache, create_app
    from survey.extensions import db
    from survey.models import Agency, Desk, Level, Questionnaire

    with workspace() as directory:
        database = (
            sqlite_database(directory) if kind == "sqlite" else postgres_database(postgres_url())
        )
        try:
            app = create_app(
                {
                    "CONFIG_NAME": "testing",
                    "SQLALCHEMY_DATABASE_URI": database.url,
                    "SECRET_KEY": "bench",
                }
            )
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                province = Agency(code="P", name="Tỉnh", level=Level.PROVINCE)
                province.questionnaire_id = Questionnaire.default().id
                districts = [
                    Agency(code=f"H{i}", name=f"Huyện {i}", parent=province, level=Level.DISTRICT)
                    for i in range(50)
                ]
                communes = [
                    Agency(
                        code=f"X{i}", name=f"Xã {i}", parent=districts[i % 50], level=Level.COMMUNE
                    )
                    for i in range(max(50, desks // 4))
                ]
                db.session.add_all([province, *districts, *communes])
                db.session.commit()
                db.session.execute(
                    sa.insert(Desk),
                    [
                        {
                            "agency_id": communes[i % len(communes)].id,
                            "code": f"D{i:06d}",
                            "name": f"Quầy {i}",
                        }
                        for i in range(desks)
                    ],
                )
                db.session.commit()
                ids = db.session.scalars(sa.select(Desk.id)).all()
                snapshot, one_by_one = [], []
                for _ in range(runs):
                    started = time.perf_counter()
                    by_id, _by_code = cache._load_all_desks()
                    snapshot.append(time.perf_counter() - started)
                    assert len(by_id) == desks
                    started = time.perf_counter()
                    for desk_id in ids:
                        cache._desk_info(Desk.__table__.c.id == desk_id)
                    one_by_one.append(time.perf_counter() - started)
                    db.session.rollback()
                snap, each = statistics.median(snapshot), statistics.median(one_by_one)
                print(
                    f"{kind:10} {desks:7,} desks: snapshot {snap * 1000:8.1f} ms"
                    f" ({snap * 1e6 / desks:5.1f} µs a desk);  one by one {each * 1000:9.1f} ms"
                    f" ({each * 1e6 / desks:6.1f} µs a desk);  ratio {each / snap:5.1f}x",
                    flush=True,
                )
        finally:
            database.drop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgresql,sqlite")
    parser.add_argument("--desks", default="2000,20000")
    args = parser.parse_args(argv)
    for kind in args.db.split(","):
        for desks in (int(n) for n in args.desks.split(",")):
            measure(kind, desks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
