"""The documents' prescribed constructions, built by the suite from Flax itself.

These give the parameters a conforming implementation must end up with for a
given seed (PRNGKey(seed), nnx.Rngs(seed), the documents' module layout). The
suite never reads expected parameters from the implementation under test.
Each builder is jitted once per shape so that drawing a new seed costs a call,
not a compilation.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import nnx


class DocSharedDense(nn.Module):
    """Document 01's module, as the document writes it."""

    hidden: int

    def setup(self):
        self.shared = nn.Dense(self.hidden, name="shared")

    def __call__(self, x):
        return jax.nn.relu(self.shared(jax.nn.relu(self.shared(x))))


@functools.cache
def _shared_dense_init(hidden: int):
    model = DocSharedDense(hidden)
    # The dummy input is built inside the trace: built eagerly it would cost a compilation of its own.
    return jax.jit(lambda key: model.init(key, jnp.zeros((1, hidden), jnp.float32))["params"]["shared"])


def shared_dense_params(seed: int, hidden: int) -> dict[str, np.ndarray]:
    """Kernel and bias that SharedDense(hidden).init(PRNGKey(seed), x) creates."""
    p = _shared_dense_init(hidden)(jax.random.PRNGKey(seed))
    return {"kernel": np.asarray(p["kernel"]), "bias": np.asarray(p["bias"])}


@functools.cache
def _dense_init(in_features: int, features: int):
    return jax.jit(lambda key: nn.Dense(features).init(key, jnp.zeros((1, in_features), jnp.float32))["params"])


def dense_params(seed: int, in_features: int, features: int) -> dict[str, np.ndarray]:
    """Kernel and bias of nn.Dense(features) initialised with PRNGKey(seed)."""
    p = _dense_init(in_features, features)(jax.random.PRNGKey(seed))
    return {"kernel": np.asarray(p["kernel"]), "bias": np.asarray(p["bias"])}


# nnx modules are built under nnx.jit, which carries the Rngs state in and the
# built module out: the contract's own nnx.Rngs(seed), one compilation per shape
# (built eagerly, every initializer primitive would compile per shape).

@functools.cache
def _nnx_linear_builder(in_features: int, features: int):
    return nnx.jit(lambda rngs: nnx.Linear(in_features, features, use_bias=False, rngs=rngs))


def nnx_linear(seed: int, in_features: int, features: int) -> nnx.Linear:
    """nnx.Linear(in, features, use_bias=False, rngs=nnx.Rngs(seed)), a concrete module."""
    return _nnx_linear_builder(in_features, features)(nnx.Rngs(seed))


def nnx_linear_kernel(seed: int, in_features: int, features: int) -> np.ndarray:
    """Kernel of nnx.Linear(in, features, use_bias=False, rngs=nnx.Rngs(seed))."""
    return np.asarray(nnx_linear(seed, in_features, features).kernel[...])



@functools.cache
def _normal_draw(in_features: int, features: int):
    return nnx.jit(lambda rngs: jax.random.normal(rngs.params(), (in_features, features)))


def multi_param_normal_draw(seed: int, in_features: int, features: int) -> np.ndarray:
    """Document 05's draw: normal(nnx.Rngs(seed).params(), (in, out)), before scaling."""
    return np.asarray(_normal_draw(in_features, features)(nnx.Rngs(seed)))
