"""The parameters document 02's broadcast Dense must have for a seed, built from Flax itself."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn


@functools.cache
def _dense_init(in_features: int, features: int):
    # The dummy input is built inside the trace: built eagerly it would cost a compilation of its own.
    return jax.jit(lambda key: nn.Dense(features).init(key, jnp.zeros((1, in_features), jnp.float32))["params"])


def dense_params(seed: int, in_features: int, features: int) -> dict[str, np.ndarray]:
    """Kernel and bias of nn.Dense(features) initialised with PRNGKey(seed)."""
    p = _dense_init(in_features, features)(jax.random.PRNGKey(seed))
    return {"kernel": np.asarray(p["kernel"]), "bias": np.asarray(p["bias"])}
