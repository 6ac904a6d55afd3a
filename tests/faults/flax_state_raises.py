"""A Flax whose nnx.state raises for every module (tests/test_expectations.py).

properties/expectations.toml expects 05-fw-bare-array-is-not-state to *fail* on
the lock's Flax (the bare array is part of the state); with this patch it raises
instead, as it did on 0.10.0-0.10.4, and the run must report that as an error
rather than absorb it as the known divergence.
"""

from flax import nnx


def patch(mp):
    def state(*args, **kwargs):
        raise ValueError("nnx.state refuses every module (tests/faults/flax_state_raises.py)")

    mp.setattr(nnx, "state", state)
