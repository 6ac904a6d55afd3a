"""The tasks of a run: the framework properties once, then each implementation's properties.

Framework properties check the installed Flax whatever the implementation, so
they run in one task of their own, in processes no implementation has touched.
Each implementation then gets one task, with every implementation property
selected; tasks run in this order, so the first implementation's task fills the
shared compilation cache with the suite's own programs while the framework task
runs beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.engine.batch.targets import Target
from conformance.engine.batch.task import FRAMEWORK, Task, ship
from conformance.engine.registry import Property


def plan(
    targets: list[Target],
    props: Iterable[Property],
    *,
    options: dict[str, Any],
    workers: int = 1,
    shipped: bool = False,
    deadline_at: float | None = None,
) -> list[Task]:
    """One task for the framework properties among ``props`` and one per implementation for the rest.

    ``shipped``: the implementations' files travel with their tasks (a cluster whose
    workers cannot read this machine's disk).
    """
    props = list(props)
    framework = tuple(p.id for p in props if p.kind == "framework")
    implementation = tuple(p.id for p in props if p.kind == "implementation")
    frozen = tuple(sorted(options.items()))
    tasks = []
    if framework:
        tasks.append(Task(FRAMEWORK, None, framework, frozen, workers, deadline_at=deadline_at))
    if implementation:
        for t in targets:
            files = ship(t) if shipped else ()
            tasks.append(Task(t.name, t, implementation, frozen, workers, files, deadline_at=deadline_at))
    return tasks
