"""Defaults every command and the plugin share: one owner for each."""

# The implementation checked when none is named (`--impl`, $CONFORMANCE_IMPL).
DEFAULT_TARGET = "conformance.implementations.reference"
TARGET_ENV_VAR = "CONFORMANCE_IMPL"

# A persistent compilation cache for every run that names none (`--compilation-cache`): CI jobs
# and the suite's own tests set it once instead of passing the option to every command.
CACHE_ENV_VAR = "CONFORMANCE_COMPILATION_CACHE"

# Seconds a property may run before it is stopped and reported as ``timeout``.
DEFAULT_TIMEOUT = 120.0

# Worker processes: crash isolation needs at least one; two keep a 2-core machine busy.
DEFAULT_WORKERS = 2

# A worker running the whole catalogue holds about 0.7 GiB; past its memory limit a property is
# ``crashed`` (out of memory). The default share leaves the rest of the machine to the controller
# and to the other workers.
MEMORY_SHARE = 0.5


def default_max_memory_mib(workers: int) -> float:
    """MiB each worker may allocate beyond its start-up: half the machine's memory, split between workers."""
    import os

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    return round(total * MEMORY_SHARE / max(workers, 1))


# Seconds a property may spend shrinking once it has found a failing example; past
# them (or past the timeout) the smallest failing input so far is the verdict's input.
SHRINK_SECONDS = 30.0
