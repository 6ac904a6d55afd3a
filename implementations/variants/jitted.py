"""Conforming: every forward function compiled with jax.jit, the sizes static.

The seed becomes a key outside the jitted function, since int(seed) needs a
concrete value. Results come back as NumPy arrays, which the contract allows.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import nnx

from implementations.reference import MultiParam, SharedDense, VmappedDense


@functools.partial(jax.jit, static_argnums=2)
def _shared_dense(key, x, hidden):
    model = SharedDense(hidden)
    return model.apply(model.init(key, x), x).reshape(-1)


def shared_dense_forward(seed, x, hidden):
    return np.asarray(_shared_dense(jax.random.PRNGKey(int(seed)), jnp.asarray(x), int(hidden)))


@functools.partial(jax.jit, static_argnums=2)
def _vmapped(key, x, features):
    model = VmappedDense(features=features)
    return model.apply(model.init(key, x), x).reshape(-1)


def nn_vmap_forward(seed, x_batch, features):
    return np.asarray(_vmapped(jax.random.PRNGKey(int(seed)), jnp.asarray(x_batch), int(features)))


@functools.partial(jax.jit, static_argnums=2)
def _two_modules(key, x, features):
    # nnx.Rngs(seed) uses PRNGKey(seed) as its default stream's key.
    linear = nnx.Linear(x.shape[-1], features, use_bias=False, rngs=nnx.Rngs(key))
    linen = nn.Dense(features, use_bias=False).apply({"params": {"kernel": linear.kernel[...]}}, x)
    return linear(x) + linen


def shared_params_two_modules(seed, x, features):
    return np.asarray(_two_modules(jax.random.PRNGKey(int(seed)), jnp.asarray(x), int(features)))


@functools.partial(jax.jit, static_argnums=2)
def _multi_param(key, x, features):
    return MultiParam(x.shape[-1], features, rngs=nnx.Rngs(key))(x)


def multi_param_forward(seed, x, features):
    return np.asarray(_multi_param(jax.random.PRNGKey(int(seed)), jnp.asarray(x), int(features)))
