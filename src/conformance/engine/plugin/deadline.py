"""A deadline for the whole run: whatever a worker or the scheduler does, the run ends.

Past it, the session stops, xdist tears the workers down (killing any still
running), and the recorder reports every property without a verdict as
``timeout``, saying the run was stopped; the report is written, not partial.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from conformance.engine.plugin.recorder import Recorder
from conformance.engine.plugin.timeouts import HARD_GRACE

# Per property, past its --timeout: the hard-exit grace, then a replacement worker's start-up.
RESTART_ALLOWANCE = 10.0
MARGIN = 120.0


def auto_deadline(groups: dict[str, int], timeout: float, workers: int) -> float:
    """Seconds a run may take when every property runs to its timeout (0: no bound).

    ``groups`` counts the properties of each xdist group; a group runs on one
    worker, so the largest group bounds the run from below too.
    """
    if timeout <= 0 or not groups:
        return 0.0
    per = timeout + HARD_GRACE + RESTART_ALLOWANCE
    return max(sum(groups.values()) / max(workers, 1), max(groups.values())) * per + MARGIN


class Deadline:
    """Controller-side: arms a timer once the collection is known, and stops the run when it fires.

    With xdist, setting ``shouldstop`` is not enough: its loop only looks at it
    after an event and then waits for the workers to finish what they were sent.
    The timer puts an event of its own on xdist's queue, whose handler raises
    xdist's ``Interrupted``; without xdist, the session stops after the running
    property (which --timeout bounds).
    """

    EVENT = "conformance_deadline"

    def __init__(self, config: pytest.Config, recorder: Recorder):
        self.config = config
        self.recorder = recorder
        self.started = time.monotonic()
        self.limit = 0.0
        self.timer: threading.Timer | None = None
        self.session: pytest.Session | None = None

    def seconds(self, nodeids: list[str]) -> float:
        raw = str(self.config.getoption("conformance_deadline"))
        if raw != "auto":
            return float(raw)
        groups: dict[str, int] = {}
        for nodeid in nodeids:
            group = nodeid.rpartition("@")[2] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid
            groups[group] = groups.get(group, 0) + 1
        xdist = self.config.pluginmanager.has_plugin("dsession")
        workers = int(self.config.getoption("numprocesses", 0) or 0) if xdist else 1
        return auto_deadline(groups, self.config.getoption("conformance_timeout"), workers)

    def _arm(self, nodeids: list[str]) -> None:
        if self.timer is not None:
            return
        self.limit = self.seconds(nodeids)
        if self.limit <= 0:
            return
        self.timer = threading.Timer(max(0.0, self.limit - (time.monotonic() - self.started)), self._fire)
        self.timer.daemon = True
        self.timer.start()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self._arm([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._arm(list(ids))

    def _fire(self) -> None:
        why = f"the run was stopped at its deadline ({self.limit:g} s, --deadline) before this property had one"
        self.recorder.stopped = why
        dsession = self.config.pluginmanager.getplugin("dsession")
        if dsession is not None:
            from xdist.dsession import Interrupted

            def stop() -> None:
                dsession.shouldstop = why
                raise Interrupted(why)

            setattr(dsession, "worker_" + self.EVENT, stop)
            dsession.queue.put((self.EVENT, {}))
        elif self.session is not None:
            self.session.shouldstop = why

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.timer is not None:
            self.timer.cancel()
