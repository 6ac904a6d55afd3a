"""Defaults every command and the plugin share: one owner for each."""

# The implementation checked when none is named (`--impl`, $CONFORMANCE_IMPL).
DEFAULT_TARGET = "conformance.implementations.reference"
TARGET_ENV_VAR = "CONFORMANCE_IMPL"

# Seconds a property may run before it is stopped and reported as ``timeout``.
DEFAULT_TIMEOUT = 120.0

# Worker processes: crash isolation needs at least one; two keep a 2-core machine busy.
DEFAULT_WORKERS = 2

# Seconds a property may spend shrinking once it has found a failing example; past
# them (or past the timeout) the smallest failing input so far is the verdict's input.
SHRINK_SECONDS = 30.0
