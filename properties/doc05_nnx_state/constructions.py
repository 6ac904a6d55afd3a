"""Document 05's kernel recipe: a normal draw from nnx.Rngs(seed).params(), then scaled."""

from __future__ import annotations

import functools

import jax
import numpy as np
from flax import nnx

from conformance.kit.oracles import f64


@functools.cache
def _normal_draw(in_features: int, features: int):
    # Under nnx.jit: one compilation per shape, the contract's own nnx.Rngs(seed).
    return nnx.jit(lambda rngs: jax.random.normal(rngs.params(), (in_features, features)))


def multi_param_normal_draw(seed: int, in_features: int, features: int) -> np.ndarray:
    """normal(nnx.Rngs(seed).params(), (in, out)), before scaling."""
    return np.asarray(_normal_draw(in_features, features)(nnx.Rngs(seed)))


def scaled_normal_kernel(normal_draw: object, in_features: int) -> np.ndarray:
    """The recipe's kernel in float64: the standard-normal draw times 1/sqrt(in_features)."""
    return f64(normal_draw) / np.sqrt(float(in_features))
