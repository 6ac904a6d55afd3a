"""The per-worker memory limit: out of memory is a fault like the others, reported ``crashed``.

Each xdist worker's data is limited (RLIMIT_DATA, :mod:`conformance.engine.memory`)
once JAX is up. An implementation that allocates past it gets a MemoryError (or
XLA's RESOURCE_EXHAUSTED), which the verdict reports as ``crashed`` (out of
memory); the worker then ends, so that what the implementation still holds
cannot fail the next, innocent property, and a fresh worker runs the rest.
"""

from __future__ import annotations

import os

import pytest

from conformance.engine import memory, registry
from conformance.engine.defaults import default_max_memory_mib
from conformance.engine.loading import ImplementationRaised
from conformance.engine.outcomes import OutOfMemory

OOM_SEEN = pytest.StashKey[bool]()


def out_of_memory(exc: BaseException) -> bool:
    """Out of memory, in the implementation or anywhere else in the property."""
    return (
        isinstance(exc, OutOfMemory)
        or memory.is_out_of_memory(exc)
        or (isinstance(exc, ImplementationRaised) and memory.is_out_of_memory(exc.original))
    )


def describe(exc: BaseException) -> str:
    mib = memory.budget_mib()
    limit = f"the worker's memory limit of {mib:g} MiB (--max-memory)" if mib else "the machine's memory"
    return f"out of memory: {exc or type(exc).__name__}, past {limit}; the worker was replaced"


def limit_worker(config: pytest.Config) -> None:
    """In an xdist worker, after the implementation is loaded: limit what it may allocate."""
    if not hasattr(config, "workerinput"):
        return
    mib = config.getoption("conformance_max_memory")
    if mib is None:
        mib = default_max_memory_mib(int(config.workerinput.get("workercount", 1) or 1))
    memory.limit_memory(mib)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """A worker that ran out of memory, or nearly, ends once its verdict is sent.

    The controller takes the exit for a crash of this property, whose verdict
    it already has (the recorder keeps the first), and a fresh worker runs the rest.
    """
    yield
    if not hasattr(item.config, "workerinput") or registry.property_of(getattr(item, "function", None)) is None:
        return
    if item.stash.get(OOM_SEEN, False) or memory.should_recycle():
        os._exit(71)
