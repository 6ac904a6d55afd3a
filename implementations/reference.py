"""The bundled reference: the whole contract, written the way the documents prescribe.

Written for readability; the suite checks it like any other plug-in. Each
forward function compiles its model once per input shape with jax.jit: the
seed turns into a key outside the compiled function (int(seed) needs a
concrete value), the sizes are static, and x goes in as given: jit takes
NumPy arrays itself, whereas jnp.asarray outside jit would compile a copy
per shape.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from conformance.implementations.transformer import SharedTransformer, TransformerBlock, UnsharedTransformer
from flax import linen as nn
from flax import nnx

__all__ = [
    "MultiParam",
    "SharedDense",
    "SharedTransformer",
    "TransformerBlock",
    "UnsharedTransformer",
    "VmappedDense",
    "multi_param_forward",
    "nn_vmap_forward",
    "shared_dense_forward",
    "shared_params_two_modules",
]


# --- 01: one module, two call sites ------------------------------------------


class SharedDense(nn.Module):
    hidden: int

    def setup(self):
        # One submodule, so one set of params, read by both calls below.
        self.shared = nn.Dense(self.hidden, name="shared")

    def __call__(self, x):
        h1 = jax.nn.relu(self.shared(x))
        return jax.nn.relu(self.shared(h1))


@functools.partial(jax.jit, static_argnames="hidden")
def _shared_dense(key, x, hidden):
    model = SharedDense(hidden=hidden)
    params = model.init(key, x)
    return model.apply(params, x).reshape(-1)


def shared_dense_forward(seed, x, hidden):
    return _shared_dense(jax.random.PRNGKey(int(seed)), x, hidden=int(hidden))


# --- 02: nn.vmap with params broadcast ----------------------------------------

VmappedDense = nn.vmap(
    nn.Dense,
    in_axes=0,
    out_axes=0,
    variable_axes={"params": None},  # no batch axis: one kernel for every row
    split_rngs={"params": False},  # one init key for every row
)


@functools.partial(jax.jit, static_argnames="features")
def _vmapped_dense(key, x_batch, features):
    model = VmappedDense(features=features)
    params = model.init(key, x_batch)
    return model.apply(params, x_batch).reshape(-1)


def nn_vmap_forward(seed, x_batch, features):
    return _vmapped_dense(jax.random.PRNGKey(int(seed)), x_batch, features=int(features))


# --- 03: one kernel, an nnx.Linear and a Linen Dense ------------------------


@functools.partial(jax.jit, static_argnames="features")
def _two_modules(key, x, features):
    # nnx.Rngs(seed) seeds its default stream with PRNGKey(seed); passing that key is the same.
    linear = nnx.Linear(x.shape[-1], features, use_bias=False, rngs=nnx.Rngs(key))
    dense = nn.Dense(features=features, use_bias=False)
    kernel = linear.kernel[...]  # the array inside the Param
    return linear(x) + dense.apply({"params": {"kernel": kernel}}, x)


def shared_params_two_modules(seed, x, features):
    return _two_modules(jax.random.PRNGKey(int(seed)), x, features=int(features))


# --- 05: Param versus Variable -------------------------------------------------


class MultiParam(nnx.Module):
    def __init__(self, in_features, out_features, rngs):
        key = rngs.params()
        self.kernel = nnx.Param(jax.random.normal(key, (in_features, out_features)) * (1.0 / jnp.sqrt(in_features)))
        self.bias = nnx.Param(jnp.zeros((out_features,)))
        self.count = nnx.Variable(jnp.array(0.0))  # state, but not trainable

    def __call__(self, x):
        return x @ self.kernel[...] + self.bias[...]


@functools.partial(jax.jit, static_argnames="features")
def _multi_param(key, x, features):
    return MultiParam(x.shape[-1], features, rngs=nnx.Rngs(key))(x)


def multi_param_forward(seed, x, features):
    return _multi_param(jax.random.PRNGKey(int(seed)), x, features=int(features))
