"""Conforming: the forward functions exactly as the documents write them, run eagerly
(no jax.jit), with the seed cast where it is used."""

import jax
import jax.numpy as jnp
from conformance.implementations.reference import MultiParam, SharedDense, VmappedDense
from flax import linen as nn
from flax import nnx


def _init_apply(model, seed, x):
    x = jnp.asarray(x)
    return model.apply(model.init(jax.random.PRNGKey(int(seed)), x), x).reshape(-1)


def shared_dense_forward(seed, x, hidden):
    return _init_apply(SharedDense(hidden=int(hidden)), seed, x)


def nn_vmap_forward(seed, x_batch, features):
    return _init_apply(VmappedDense(features=int(features)), seed, x_batch)


def shared_params_two_modules(seed, x, features):
    x = jnp.asarray(x)
    linear = nnx.Linear(x.shape[-1], int(features), use_bias=False, rngs=nnx.Rngs(int(seed)))
    kernel = linear.kernel.value  # the document's accessor (deprecated, still correct)
    return linear(x) + nn.Dense(features=int(features), use_bias=False).apply({"params": {"kernel": kernel}}, x)


def multi_param_forward(seed, x, features):
    x = jnp.asarray(x)
    return MultiParam(x.shape[-1], int(features), rngs=nnx.Rngs(int(seed)))(x)
