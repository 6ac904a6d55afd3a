"""How properties are spread over xdist workers, and what happens to a property that kills its worker."""

from __future__ import annotations

import sys
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
    groups :func:`group` gives them, the longest first.
    """
    if workers <= 0:
        return []
    # In the order the items were sorted (longest groups first, plugin.selection), not by their number of tests.
    return ["-n", str(workers), "--dist", "loadgroup", "--no-loadscope-reorder", "--max-worker-restart", "100"]


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
    return f"{prop.document}{_part(prop)}-{impl.name if impl is not None else 'flax'}"


def _part(prop: registry.Property) -> str:
    """``-NAME`` where the document's package puts the property's module in a group of its own.

    A document package may name, in ``WORKER_GROUPS`` (module -> name), modules that share no compiled program
    with the rest of it: they can run on another worker at no cost, and a document as large as 04 then no
    longer sets the run's wall time alone.
    """
    package, _, module = prop.module.rpartition(".")
    parts = getattr(sys.modules.get(package), "WORKER_GROUPS", {})
    return f"-{parts[module]}" if module in parts else ""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Schedule ``--dist loadgroup`` with :class:`GroupScheduling`."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return GroupScheduling(config, log)


try:
    from xdist.scheduler import LoadGroupScheduling
except ImportError:  # pragma: no cover - xdist is a dependency; the plugin works without it
    LoadGroupScheduling = object  # type: ignore[assignment,misc]


class GroupScheduling(LoadGroupScheduling):  # type: ignore[misc,valid-type]
    """xdist's loadgroup scheduling, with a dead worker's work handed on correctly.

    xdist 3.8's ``LoadScopeScheduling.remove_node`` puts every group the dead
    worker was ever given back on the queue, finished ones included, and the test
    that killed it still pending. A replacement handed a finished group is sent
    no test, so it never reports back, is never given more, and the run waits
    forever; and the crashed test, handed on, kills the next worker too. Here
    only the tests not yet run go back, at the front of the queue, without the
    one that was running when the worker died.
    """

    def remove_node(self, node: Any) -> str | None:
        workload = self.assigned_work.pop(node)
        left = {scope: [nodeid for nodeid, done in unit.items() if not done] for scope, unit in workload.items()}
        left = {scope: nodeids for scope, nodeids in left.items() if nodeids}
        if not left:
            return None
        # A worker runs its tests in the order it was sent them: the first not done is the one it was running.
        crashitem = left[next(iter(left))].pop(0)
        for scope, nodeids in reversed([(s, n) for s, n in left.items() if n]):
            self.workqueue[scope] = dict.fromkeys(nodeids, False)
            self.workqueue.move_to_end(scope, last=False)
        for other in self.assigned_work:
            self._reschedule(other)
        return crashitem
