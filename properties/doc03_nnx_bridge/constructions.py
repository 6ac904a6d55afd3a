"""The nnx.Linear whose kernel document 03 shares, built from nnx.Rngs(seed) like the contract's.

nnx modules are built under nnx.jit, which carries the Rngs state in and the
built module out: one compilation per shape (built eagerly, every initializer
primitive would compile per shape).
"""

from __future__ import annotations

import functools

import numpy as np
from flax import nnx


@functools.cache
def _nnx_linear_builder(in_features: int, features: int):
    return nnx.jit(lambda rngs: nnx.Linear(in_features, features, use_bias=False, rngs=rngs))


def nnx_linear(seed: int, in_features: int, features: int) -> nnx.Linear:
    """nnx.Linear(in, features, use_bias=False, rngs=nnx.Rngs(seed)), a concrete module."""
    return _nnx_linear_builder(in_features, features)(nnx.Rngs(seed))


def nnx_linear_kernel(seed: int, in_features: int, features: int) -> np.ndarray:
    """Kernel of nnx.Linear(in, features, use_bias=False, rngs=nnx.Rngs(seed))."""
    return np.asarray(nnx_linear(seed, in_features, features).kernel[...])
