"""The nnx.Linear whose kernel document 03 shares, built from nnx.Rngs(seed) like the contract's,
and containers of both frameworks built for the framework properties.

nnx modules are built under nnx.jit, which carries the Rngs state in and the
built module out: one compilation per shape (built eagerly, every initializer
primitive would compile per shape). Linen's init runs under jax.jit for the
same reason. Containers whose values a property sets itself are built with
nnx.eval_shape (nothing compiled) and filled, the way a checkpoint is restored.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import nnx

from conformance.kit.nnx_compat import replace_value


@functools.cache
def _nnx_linear_builder(in_features: int, features: int):
    return nnx.jit(lambda rngs: nnx.Linear(in_features, features, use_bias=False, rngs=rngs))


def nnx_linear(seed: int, in_features: int, features: int) -> nnx.Linear:
    """nnx.Linear(in, features, use_bias=False, rngs=nnx.Rngs(seed)), a concrete module."""
    return _nnx_linear_builder(in_features, features)(nnx.Rngs(seed))


def nnx_linear_kernel(seed: int, in_features: int, features: int) -> np.ndarray:
    """Kernel of nnx.Linear(in, features, use_bias=False, rngs=nnx.Rngs(seed))."""
    return np.asarray(nnx_linear(seed, in_features, features).kernel[...])


def filled_nnx_linear(kernel: object, bias: object | None = None) -> nnx.Linear:
    """An nnx.Linear of the kernel's shape (with a bias if one is given) holding exactly these arrays.

    Built abstractly and filled by assignment, as a module is pointed at restored arrays.
    """
    in_features, features = np.shape(kernel)
    use_bias = bias is not None
    linear = nnx.eval_shape(lambda: nnx.Linear(in_features, features, use_bias=use_bias, rngs=nnx.Rngs(0)))
    replace_value(linear.kernel, kernel)
    if use_bias:
        replace_value(linear.bias, bias)
    return linear


# Flax's containers with Flax's default bias initialiser, built cheaply: the kernel starts at
# zeros, an initialiser that costs next to nothing eagerly and compiles to almost nothing under
# jit. The properties that use these look at the containers and at the default bias, never at
# an initial kernel.


@functools.cache
def _linen_dense_init(in_features: int, features: int):
    # Flax names are looked up when this first runs, so a patched nn.Dense is the one built.
    dense = nn.Dense(features, kernel_init=nn.initializers.zeros_init())
    return jax.jit(lambda key: dense.init(key, jnp.zeros((1, in_features), jnp.float32)))


def linen_dense_with_bias(seed: int, in_features: int, features: int) -> dict:
    """``nn.Dense(features, kernel_init=zeros).init(PRNGKey(seed), x)``: Linen's variables dict, default bias."""
    return _linen_dense_init(in_features, features)(jax.random.PRNGKey(seed))


def nnx_linear_with_bias(seed: int, in_features: int, features: int) -> nnx.Linear:
    """``nnx.Linear(in, features, kernel_init=zeros, rngs=nnx.Rngs(seed))``, built eagerly: default use_bias and bias."""
    return nnx.Linear(in_features, features, kernel_init=nn.initializers.zeros_init(), rngs=nnx.Rngs(seed))
