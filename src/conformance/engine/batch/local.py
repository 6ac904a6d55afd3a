"""Running a run's tasks on this machine, a few at a time, each in its own process group."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from conformance.engine.batch.task import Outcome, Task, execute, stop_all


def run_local(
    tasks: list[Task],
    *,
    parallel: int,
    cache: str | None,
    on_event: Callable[[Task, dict[str, Any]], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run ``tasks`` in order, ``parallel`` at once; on an interrupt, end them all and raise it.

    Threads only wait here: each task's work is in its own processes.
    """
    outcomes: list[Outcome] = []
    pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="conformance-task")
    pending: set[Future] = {pool.submit(execute, t, cache=cache, on_event=on_event) for t in tasks}
    try:
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                outcome = future.result()
                outcomes.append(outcome)
                if on_done is not None:
                    on_done(outcome)
    except BaseException:
        for future in pending:
            future.cancel()
        stop_all()
        # What the stopped tasks reported before the interrupt stays in the (partial) report.
        for future in pending:
            if not future.cancelled():
                outcome = future.result()
                outcome.interrupted = True
                outcomes.append(outcome)
                if on_done is not None:
                    on_done(outcome)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outcomes
