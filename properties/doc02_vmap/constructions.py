"""Document 02's lifted Dense in its settings, and the parameters its broadcast Dense must have for a seed."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn


@functools.cache  # one class per setting, so compiled calls are cached across examples and properties
def vmapped_dense(params_axis: int | None, split: bool):
    """nn.vmap over nn.Dense, batch on axis 0, with params on ``params_axis`` and the params RNG split or not."""
    return nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": params_axis}, split_rngs={"params": split})


@functools.cache
def _dense_init(in_features: int, features: int):
    # The dummy input is built inside the trace: built eagerly it would cost a compilation of its own.
    return jax.jit(lambda key: nn.Dense(features).init(key, jnp.zeros((1, in_features), jnp.float32))["params"])


def dense_params(seed: int, in_features: int, features: int) -> dict[str, np.ndarray]:
    """Kernel and bias of nn.Dense(features) initialised with PRNGKey(seed)."""
    p = _dense_init(in_features, features)(jax.random.PRNGKey(seed))
    return {"kernel": np.asarray(p["kernel"]), "bias": np.asarray(p["bias"])}
