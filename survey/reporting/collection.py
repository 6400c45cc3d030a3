"""Python's cyclic garbage collector, paused while a report is built.

A province report allocates a few hundred thousand small objects (a node, its counts and its
row per agency, the rows read from the database). Allocations set off the collector, and two
or three of its runs per report are full ones, which walk every object of the process: the
app's, the ORM's, the translations', the compiled templates'. At 5,000 agencies those full
runs took 0.44 s of a 1.45 s report on the benchmark machine (docs/performance.md, "The
report's own time"). What a report builds is freed by reference counting as soon as it is
dropped (its objects do not form cycles), so nothing is lost by not collecting meanwhile.

The pause is process-wide (the collector is), counted across threads: the collector runs
again when the last report of the process ends, unless it was disabled before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic collector for the block (nested and concurrent blocks allowed)."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
