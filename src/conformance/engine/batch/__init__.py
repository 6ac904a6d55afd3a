"""Runs of many implementations: each in processes of its own, on this machine or on a Dask cluster.

- :mod:`.targets`: what ``--impl`` names, expanded (files, packages, folders, dotted modules);
- :mod:`.plan`: the run's tasks: the framework properties once, then one task per implementation;
- :mod:`.task`: one task, in a process group of its own with a scratch folder of its own;
- :mod:`.events`: a task's progress, as JSON lines;
- :mod:`.local` and :mod:`.cluster`: where the tasks run;
- :mod:`.merge`: the tasks' reports, or a sharded run's, as one report.

Each task is a pytest session with the tamper checks of a single run
(:mod:`conformance.engine.plugin.tamper_watch`): its controller never imports
the implementation and checks its worker's verdicts, so an implementation that
changes the judge in its own processes is ``tampered`` on every property of its
task and the others keep their verdicts. What a task's controller cannot see
is an edit of the suite's files made before it started (by another task): this
process, which runs no implementation code, hashes them before the first task
and again as each task ends, and every task that ends after they changed is
``tampered`` too.

What the tasks of a run share is what does not depend on an implementation: the
framework properties run once, and one persistent XLA compilation cache holds the
suite's own programs (its constructions and oracles), compiled by the first task
that needs each and loaded by the others.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from conformance.engine.batch.merge import MergeError, combine, merge_reports, verdicts
from conformance.engine.batch.plan import plan
from conformance.engine.batch.targets import Skipped, Target, TargetError, expand
from conformance.engine.batch.task import FRAMEWORK, Outcome, Task
from conformance.engine.registry import Property
from conformance.engine.suite_files import SuiteFiles

__all__ = [
    "FRAMEWORK",
    "MergeError",
    "Outcome",
    "Skipped",
    "Target",
    "TargetError",
    "Task",
    "expand",
    "merge_reports",
    "plan",
    "run_batch",
    "verdicts",
]


@contextlib.contextmanager
def _run_cache(named: str | None) -> Iterator[str]:
    """The compilation cache the run's tasks share: the one named, else one for this run only."""
    if named:
        yield named
        return
    scratch = tempfile.mkdtemp(prefix="conformance-xla-")
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_batch(
    targets: list[Target],
    selection: list[Property],
    *,
    options: dict[str, Any],
    run: dict[str, Any],
    skipped: list[Skipped] = (),
    parallel: int = 2,
    cluster: str | None = None,
    cache: str | None = None,
    deadline_at: float | None = None,
    on_tasks: Callable[[list[Task]], None] | None = None,
    on_event: Callable[[Task, dict[str, Any]], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> dict[str, Any]:
    """Check every target against ``selection``: the merged report (``partial`` when interrupted)."""
    from conformance.engine.batch.cluster import local_workers, run_on_cluster
    from conformance.engine.batch.local import run_local

    started = time.monotonic()
    remote = cluster is not None and local_workers(cluster) is None
    tasks = plan(targets, selection, options=options, shipped=remote, deadline_at=deadline_at)
    if on_tasks is not None:
        on_tasks(tasks)
    outcomes: list[Outcome] = []
    files = SuiteFiles.take()  # before any task runs: the judge as this run found it
    edited: list[str] = []

    def done(outcome: Outcome) -> None:
        if not edited:
            edited.extend(files.changes())
        outcome.judge_edited = tuple(edited)
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)

    interrupted = False
    # On a remote cluster each worker keeps its own cache, unless one was named (a shared file system).
    with contextlib.nullcontext(cache) if remote else _run_cache(cache) as shared:
        try:
            if cluster is not None:
                run_on_cluster(tasks, address=cluster, cache=shared, on_event=on_event, on_done=done)
            else:
                run_local(tasks, parallel=parallel, cache=shared, on_event=on_event, on_done=done)
        except KeyboardInterrupt:
            interrupted = True
    props = {p.id: p for p in selection}
    return combine(
        tasks,
        outcomes,
        props,
        targets=targets,
        run=run,
        skipped=[{"path": s.path, "reason": s.reason} for s in skipped],
        seconds=time.monotonic() - started,
        interrupted=interrupted,
    )
