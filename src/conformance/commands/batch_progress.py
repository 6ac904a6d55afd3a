"""The progress display of a run of several implementations.

One bar for the whole run (verdicts so far out of all), and one line per running
task: its implementation, the property it is running, and how many of its
properties remain. Fed from the tasks' events, on the threads that watch them.
Where the output is not a terminal (a CI log), one line per finished task instead.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from conformance.commands.console import console
from conformance.commands.verdict_style import counts_text
from conformance.engine.batch import FRAMEWORK, Outcome, Task
from conformance.engine.batch.events import DONE, RUNNING
from conformance.engine.plugin.recorder import property_of_nodeid


def _property_id(nodeid: str) -> str:
    found = property_of_nodeid(nodeid)
    return found[0].id if found else nodeid.split("::")[-1]


class BatchProgress:
    def __init__(self, enabled: bool = True):
        self.live = enabled and console.is_terminal
        self._bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[now]}"),
            console=console,
            transient=True,
        )
        self._total = None
        self._rows: dict[str, Any] = {}
        self._counted: dict[str, int] = {}  # verdicts counted so far, per task
        self._lock = threading.Lock()

    def __enter__(self) -> BatchProgress:
        if self.live:
            self._bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live:
            self._bar.stop()

    def start(self, tasks: list[Task]) -> None:
        n = sum(len(t.ids) for t in tasks)
        implementations = sum(t.target is not None for t in tasks)
        if self.live:
            self._total = self._bar.add_task(f"{implementations} implementations", total=n, now="")
        else:
            console.print(f"{len(tasks)} tasks: {implementations} implementations, {n} verdicts to come")

    def _label(self, task: Task) -> str:
        return "framework (Flax)" if task.key == FRAMEWORK else task.key

    def event(self, task: Task, event: dict[str, Any]) -> None:
        if not self.live:
            return
        with self._lock:
            row = self._rows.get(task.key)
            if row is None:
                row = self._rows[task.key] = self._bar.add_task(
                    f"  {self._label(task)}", total=len(task.ids), now="starting"
                )
            if event["event"] == RUNNING:
                self._bar.update(row, now=_property_id(event["nodeid"]))
            elif event["event"] == DONE:
                self._counted[task.key] = self._counted.get(task.key, 0) + 1
                self._bar.update(row, advance=1)
                self._bar.update(self._total, advance=1, now=f"{self._label(task)}: {_property_id(event['nodeid'])}")

    def done(self, outcome: Outcome) -> None:
        task = outcome.task
        results = (outcome.report or {}).get("results", [])
        counts: dict[str, int] = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        why = (outcome.load_error and f"cannot load: {outcome.load_error}") or outcome.problem or counts_text(counts)
        if self.live:
            with self._lock:
                row = self._rows.pop(task.key, None)
                if row is not None:
                    self._bar.remove_task(row)
                # A task that died or never loaded has its verdicts all at once.
                left = len(task.ids) - self._counted.get(task.key, 0)
                self._bar.update(self._total, advance=max(left, 0))
            self._bar.console.print(f"[bold]{self._label(task)}[/] {why} ({outcome.seconds:.0f} s)")
        else:
            console.print(f"{self._label(task)}: {why} ({outcome.seconds:.0f} s)")
