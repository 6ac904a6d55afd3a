"""Stopping a property that runs past ``--timeout``.

SIGALRM raises :class:`PropertyTimeout` (a BaseException neither Hypothesis nor
the implementation can swallow) into the property. A hang inside native code
ignores the signal; a watchdog thread then ends the worker and leaves a marker
file, so the controller reports ``timeout`` rather than ``crashed``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from conformance.engine import memory, registry
from conformance.engine.defaults import SHRINK_SECONDS
from conformance.engine.outcomes import PropertyTimeout
from conformance.engine.plugin.scheduling import impl_of

# Past the timeout, a hang the signal cannot interrupt (inside native code)
# ends the worker after this grace; the controller still reports ``timeout``.
HARD_GRACE = 15.0
MARKERS_ENV = "CONFORMANCE_TIMEOUT_MARKERS"


def shrink_budget(timeout: float) -> float:
    """Seconds a property may shrink a failure: at most half its timeout, so the search before it keeps time."""
    return min(SHRINK_SECONDS, timeout / 2) if timeout > 0 else SHRINK_SECONDS


def marker_path(nodeid: str) -> Path | None:
    """Where the watchdog records that it ended the worker running ``nodeid``."""
    marker_dir = os.environ.get(MARKERS_ENV)
    return Path(marker_dir, hashlib.sha1(nodeid.encode()).hexdigest()) if marker_dir else None


def _arm_timeout(seconds: float, nodeid: str) -> tuple[Any, threading.Timer | None]:
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        return None, None

    def raise_timeout(signum: int, frame: Any) -> None:
        raise PropertyTimeout(f"still running after --timeout {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)

    def hard_exit() -> None:
        marker = marker_path(nodeid)
        if marker is not None:
            marker.write_text(str(seconds))
        os._exit(70)

    watchdog = threading.Timer(seconds + HARD_GRACE, hard_exit)
    watchdog.daemon = True
    watchdog.start()
    return previous, watchdog


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    prop = registry.property_of(getattr(item, "function", None))
    if prop is None:
        yield
        return
    timeout = item.config.getoption("conformance_timeout")
    log = registry.reset_log(shrink_seconds=shrink_budget(timeout))
    impl = impl_of(item)
    impl_before = impl.call_seconds if impl is not None else 0.0
    previous, watchdog = _arm_timeout(timeout, item.nodeid)
    try:
        outcome = yield
        if outcome.exception is not None and memory.is_out_of_memory(outcome.exception):
            memory.lift_memory_limit()  # a MemoryError outside the implementation's calls: room to report it
    finally:
        if watchdog is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            watchdog.cancel()
        log.extra["impl_seconds"] = (impl.call_seconds - impl_before) if impl is not None else 0.0
