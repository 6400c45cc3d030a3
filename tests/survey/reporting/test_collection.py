"""A report is built with Python's cyclic collector paused, and the collector runs again after,
whatever happens: an error, nested reports, reports in parallel threads
(survey/reporting/collection.py)."""

from __future__ import annotations

import gc
import threading
from datetime import datetime

import pytest

from survey import reporting
from survey.reporting import collection, table


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_a_report_is_built_with_the_collector_paused(
    app, make_agency, make_desk, add_responses, monkeypatch
):
    add_responses(make_desk(agency=make_agency("P")), 3, 1, datetime(2026, 8, 1, 3))
    seen = []
    real = table.sql.period_counts

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(table.sql, "period_counts", spy)
    with app.test_request_context():
        report = reporting.build_report(reporting.parse_options({"period": "2026-Q3"}, None))
    assert seen == [False]
    assert gc.isenabled()
    assert report.summary.valid == 4


def test_an_error_inside_lets_the_collector_run_again():
    with pytest.raises(RuntimeError):
        with collection.paused():
            assert not gc.isenabled()
            raise RuntimeError("a report that fails")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    with collection.paused():
        pass
    assert not gc.isenabled()


def test_the_collector_waits_for_the_last_of_overlapping_reports():
    entered, release = threading.Event(), threading.Event()
    states = []

    def other_report():
        with collection.paused():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other_report)
    thread.start()
    assert entered.wait(5)
    with collection.paused():
        with collection.paused():  # nested
            states.append(gc.isenabled())
        states.append(gc.isenabled())
    states.append(gc.isenabled())  # the other report still runs
    release.set()
    thread.join(5)
    states.append(gc.isenabled())
    assert states == [False, False, False, True]
