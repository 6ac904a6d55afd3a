"""The per-worker memory limit (RLIMIT_DATA)."""

from __future__ import annotations

import resource

# A worker holding more than this share of its limit after a property is replaced.
RECYCLE_SHARE = 0.75
_budget_mib = 0.0  # what limit_memory allowed beyond start-up (for messages)


def data_mib() -> float:
    """This process's data now (VmData: heap and private writable mappings), in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmData:"):
                return int(line.split()[1]) / 1024
    return 0.0


def limit_memory(mib: float) -> None:
    """Let this process allocate ``mib`` MiB of data beyond what it holds now (0: no limit).

    RLIMIT_DATA, not RLIMIT_AS: glibc's per-thread malloc arenas (64 MiB of
    address space each, up to 8 per core) and XLA's threads reserve address space
    they never touch, so a worker's address space grows by ~200 MiB per core. Its
    data grows too (~60 MiB per core: OpenBLAS and XLA per-thread buffers), so the
    limit is set above what the worker holds once JAX is up, not as an absolute.
    A Python or NumPy allocation past it raises MemoryError, XLA's raises
    RESOURCE_EXHAUSTED, and a C++ allocation elsewhere may abort the worker.
    Only the soft limit is set, so :func:`lift_memory_limit` can undo it.
    """
    global _budget_mib
    if mib <= 0:
        return
    import jax
    import jax.numpy as jnp

    jax.block_until_ready(jnp.zeros(()) + 1)  # XLA's client and thread pool, before measuring
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = int((data_mib() + mib) * 2**20)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    _budget_mib = mib


def limit_mib() -> float:
    """The data limit in force, in MiB (0: none)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    return 0.0 if soft == resource.RLIM_INFINITY else soft / 2**20


def lift_memory_limit() -> None:
    """Lift the limit after running out of memory, leaving room to report it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))


def budget_mib() -> float:
    """The MiB :func:`limit_memory` allowed beyond start-up (0: no limit was set)."""
    return _budget_mib


def is_out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, or XLA failing to allocate (RESOURCE_EXHAUSTED, a ValueError on CPU)."""
    return isinstance(exc, MemoryError) or (isinstance(exc, Exception) and str(exc).startswith("RESOURCE_EXHAUSTED"))


def should_recycle() -> bool:
    """Whether this process kept so much that the next property may run out of memory.

    An implementation can leak without ever failing itself: JAX dispatches
    asynchronously, so an allocation past the limit may only poison an array it
    throws away, and the next property, innocent, would be the one to fail.
    """
    limit = limit_mib()
    return _budget_mib > 0 and limit > 0 and data_mib() > limit - (1 - RECYCLE_SHARE) * _budget_mib
