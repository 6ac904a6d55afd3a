"""Progress events of a task: which property started and which finished, as JSON lines in a file.

A task runs in processes of its own (its pytest controller and that controller's
workers); the controller appends one line per event and the orchestrator, or a
cluster worker on its behalf, reads the lines as they come. The file is the whole
channel: nothing is sent anywhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = "started"  # the implementation loaded and the session began
RUNNING = "running"  # a property began
DONE = "done"  # a property has its verdict


class EventWriter:
    """A pytest plugin for the task's controller: one JSON line per event, flushed at once."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def _emit(self, event: str, **fields: Any) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps({"event": event, **fields}) + "\n")

    def pytest_sessionstart(self, session: Any) -> None:
        self._emit(STARTED)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self._emit(RUNNING, nodeid=nodeid)

    def pytest_runtest_logreport(self, report: Any) -> None:
        # "???": xdist's report for the property a dead worker was running.
        if report.when in ("call", "???") or (report.when == "setup" and not report.passed):
            self._emit(DONE, nodeid=report.nodeid, outcome=report.outcome)


class EventReader:
    """Reads the lines a task has appended since the last call (a partial last line waits)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.offset = 0
        self.started = False

    def poll(self, handle: Callable[[dict[str, Any]], None]) -> None:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.decode().splitlines():
            event = json.loads(line)
            self.started = self.started or event["event"] == STARTED
            handle(event)
