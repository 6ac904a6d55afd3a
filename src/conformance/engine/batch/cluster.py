"""Running a run's tasks on a Dask cluster: one task per implementation (and one for the framework).

Each task runs on a Dask worker exactly as on this machine (:func:`.task.execute`):
in processes of its own, started with the worker's Python, so in the environment
installed there, which must be the pinned one (``make setup`` or the lock file).
A task's progress events travel through Dask's event log to this process. Only
the implementation's own files travel with a task (a file alone, a package with
its folder); a dotted module must be installed on the workers.

``local:N`` starts a cluster of N worker processes on this machine, on the
loopback interface only, for as long as the run; any other address is a running
scheduler's (``tcp://host:8786``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from conformance.engine.batch.task import Outcome, Task, execute

TOPIC = "conformance-progress"
LOCAL = "local:"


class ClusterError(Exception):
    """The cluster could not be reached or started; the message is one line."""


def _remote(task: Task, cache: str | None) -> Outcome:
    """On a worker: run the task under the worker's scratch folder, forwarding its events."""
    from distributed import get_worker

    worker = get_worker()

    def forward(t: Task, event: dict[str, Any]) -> None:
        worker.log_event(TOPIC, {"task": t.key, **event})

    own_cache = cache or os.path.join(worker.local_directory, "xla-cache")
    return execute(task, scratch_root=worker.local_directory, cache=own_cache, on_event=forward)


def local_workers(address: str) -> int | None:
    """N for ``local:N``; None for a scheduler's address."""
    if not address.startswith(LOCAL):
        return None
    try:
        n = int(address[len(LOCAL) :])
    except ValueError:
        n = 0
    if n < 1:
        raise ClusterError(f"--cluster {address}: local:N takes a number of worker processes, 1 or more")
    return n


@contextlib.contextmanager
def connect(address: str) -> Iterator[Any]:
    """A Dask client for ``address``; ``local:N`` starts (and afterwards stops) N local workers."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("--cluster needs Dask's `distributed` package (pip install distributed)") from None
    n = local_workers(address)
    try:
        if n is not None:
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            stack = contextlib.ExitStack()
            stack.enter_context(cluster)
            client = stack.enter_context(Client(cluster))
        else:
            stack = contextlib.ExitStack()
            client = stack.enter_context(Client(address, timeout="30s"))
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"--cluster {address}: cannot reach the scheduler: {exc}") from None
    with stack:
        yield client


def run_on_cluster(
    tasks: list[Task],
    *,
    address: str,
    cache: str | None,
    on_event: Callable[[Task, dict[str, Any]], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Submit every task, and collect the outcomes as they finish (a lost task is reported crashed)."""
    from distributed import as_completed

    by_key = {t.key: t for t in tasks}
    outcomes: list[Outcome] = []
    with connect(address) as client:
        if on_event is not None:
            client.subscribe_topic(TOPIC, lambda event: on_event(by_key[event[1]["task"]], event[1]))
        run = uuid.uuid4().hex[:8]
        futures = {
            client.submit(_remote, t, cache, key=f"conformance-{run}-{i}", pure=False): t for i, t in enumerate(tasks)
        }
        try:
            for future in as_completed(futures):
                task = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker died under it (KilledWorker), or the cluster went away
                    outcome = Outcome(task, problem=f"the cluster lost this task: {type(exc).__name__}: {exc}")
                outcomes.append(outcome)
                if on_done is not None:
                    on_done(outcome)
        except BaseException:
            client.cancel(list(futures))
            raise
    return outcomes
