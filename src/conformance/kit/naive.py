"""The benchmark's naive harness: the same properties without the suite's speed levers.

``make bench`` measures the suite against what a straightforward harness costs.
With ``CONFORMANCE_NAIVE=1``, sizes are drawn freely instead of from the shape
pools (conformance.kit.strategies), and JAX's compilation caches are cleared before
every example, so every call compiles as it would in a test that builds its
jitted function afresh. Never set in real runs.
"""

from __future__ import annotations

import os

NAIVE_ENV = "CONFORMANCE_NAIVE"


def enabled() -> bool:
    return os.environ.get(NAIVE_ENV) == "1"


def before_example() -> None:
    """Forget every compiled executable, so that this example compiles all it calls."""
    if enabled():
        import jax

        jax.clear_caches()
