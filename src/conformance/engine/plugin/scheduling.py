"""How properties are spread over xdist workers, and what happens to a property that kills its worker."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.engine import registry
from conformance.engine.loading import Implementation


def impl_of(item: pytest.Item) -> Implementation | None:
    """The implementation a collected property runs against (None for framework properties)."""
    return item.callspec.params.get("impl") if hasattr(item, "callspec") else None


def xdist_args(workers: int) -> list[str]:
    """pytest-xdist options for ``workers`` worker processes (none for 0: run in this process).

    A crashed worker is replaced and the run goes on; properties run in the
    groups :func:`group` gives them.
    """
    if workers <= 0:
        return []
    return ["-n", str(workers), "--dist", "loadgroup", "--max-worker-restart", "100"]


def group(prop: registry.Property, item: pytest.Item, impls: list[Implementation]) -> str:
    """The xdist work unit (--dist loadgroup) a property runs in.

    Compilation caches are per process. The properties of one document call the
    same compiled programs (the document's constructions, the implementation's
    functions at each pool shape), so one worker runs them all and compiles each
    program once instead of once per worker. With several implementations
    plugged in (`conformance mutants`) each gets its own groups; framework
    properties join the first implementation's, the only one in a usual run.
    """
    impl = impl_of(item)
    if impl is None and impls:
        impl = impls[0]
    return f"{prop.document}-{impl.name if impl is not None else 'flax'}"


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: Any) -> None:
    """Never hand a property that killed its worker to the replacement worker.

    xdist's group scheduler puts the crashed test back with the rest of its
    group, so it would crash every new worker in turn. Taking it out lets the
    replacement run the rest of the group; a group left empty is dropped, since
    a worker handed nothing to run never reports back. (Plain load scheduling
    drops the crashed test itself and has no work queue.)
    """
    queue = getattr(sched, "workqueue", {})
    for group, unit in list(queue.items()):
        if unit.pop(crashitem, None) is not None and not any(not done for done in unit.values()):
            del queue[group]
