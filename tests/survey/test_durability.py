"""No acknowledged rating is lost or counted twice: the app under gunicorn, concurrent clients,
resends, and a kill -9 of the whole server. Small versions of bench/bench_no_loss.py and
bench/bench_crash.py (docs/performance.md has the full runs)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bench.durability import crash, no_loss
from tests.conftest import TEST_DATABASE_URL, missing_service

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request, monkeypatch) -> str:
    if request.param == "postgresql":
        url = TEST_DATABASE_URL
        if not url:
            missing_service("PostgreSQL tests need TEST_DATABASE_URL (bash .ci/run sets it)")
        monkeypatch.setenv("BENCH_DATABASE_URL", url)  # where bench.durability makes its database
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        try:
            with engine.connect():
                pass
        except sa.exc.OperationalError as error:
            missing_service(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {error.orig}")
        finally:
            engine.dispose()
    return request.param


def test_concurrent_clients_and_resends_store_each_acknowledged_id_once(kind, tmp_path):
    result = no_loss(
        kind,
        tmp_path,
        clients=2,
        submissions=200,
        resend_share=0.1,
        form_share=0.25,
        seed=3,
        workers=2,
    )
    assert result.server_errors == 0 and result.connection_errors == 0
    assert result.requests == 220  # 200 distinct ratings and 20 resends
    assert result.check.lost == [] and result.check.unknown == []
    assert result.check.acknowledged == result.check.stored == 200
    assert result.check.answers_stored == result.check.answers_expected
    # Each API id gets one 201; its resend, whichever arrives second, gets a 200.
    assert result.statuses[201] == result.api_submissions
    assert result.statuses.get(200, 0) == result.api_resends
    assert result.statuses[303] == 220 - result.api_submissions - result.api_resends


def test_killing_the_server_loses_no_acknowledged_id(kind, tmp_path):
    result = crash(kind, tmp_path, clients=2, kills=1, acks_before_kill=100, workers=2)
    (at_kill,) = result.kills
    assert at_kill.acknowledged >= 100
    assert at_kill.lost == [], "acknowledged before the kill, missing after it"
    assert at_kill.unknown == []
    final = result.final
    assert final.lost == [] and final.unknown == []
    assert final.stored == final.acknowledged  # the resends completed everything sent
    assert final.answers_stored == final.answers_expected
    assert not [s for s in result.statuses if isinstance(s, int) and s >= 500]
