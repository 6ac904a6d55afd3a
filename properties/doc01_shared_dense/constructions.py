"""Document 01's module and the parameters its recipe gives for a seed, built from Flax itself.

The suite never reads expected parameters from the implementation under test.
Each builder is jitted once per shape so that a new seed costs a call, not a
compilation.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn


class DocSharedDense(nn.Module):
    """Document 01's module, as the document writes it."""

    hidden: int

    def setup(self):
        self.shared = nn.Dense(self.hidden, name="shared")

    def __call__(self, x):
        return jax.nn.relu(self.shared(jax.nn.relu(self.shared(x))))


class DocInlineDense(nn.Module):
    """The document's non-shared version: two nn.Dense created inline in @nn.compact."""

    hidden: int

    @nn.compact
    def __call__(self, x):
        x = nn.Dense(self.hidden)(x)  # Dense_0
        return nn.Dense(self.hidden)(x)  # Dense_1, applied second


class CompactReuse(nn.Module):
    """SharedDense written in @nn.compact: one nn.Dense created inline, called at both sites.

    The document says only setup() can share a submodule across call sites.
    """

    hidden: int

    @nn.compact
    def __call__(self, x):
        dense = nn.Dense(self.hidden)
        return jax.nn.relu(dense(jax.nn.relu(dense(x))))


@functools.cache
def _shared_dense_init(hidden: int):
    model = DocSharedDense(hidden)
    # The dummy input is built inside the trace: built eagerly it would cost a compilation of its own.
    return jax.jit(lambda key: model.init(key, jnp.zeros((1, hidden), jnp.float32))["params"]["shared"])


def shared_dense_params(seed: int, hidden: int) -> dict[str, np.ndarray]:
    """Kernel and bias that SharedDense(hidden).init(PRNGKey(seed), x) creates."""
    p = _shared_dense_init(hidden)(jax.random.PRNGKey(seed))
    return {"kernel": np.asarray(p["kernel"]), "bias": np.asarray(p["bias"])}
