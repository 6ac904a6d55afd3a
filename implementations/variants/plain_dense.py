"""Conforming: document 02's forward with a plain nn.Dense (the document calls it equivalent),
and document 05's kernel divided by sqrt(in) rather than multiplied by its reciprocal."""

import jax
import jax.numpy as jnp
from flax import linen as nn
from flax import nnx


def nn_vmap_forward(seed, x_batch, features):
    dense = nn.Dense(int(features))  # Dense already maps over leading axes
    x_batch = jnp.asarray(x_batch)
    return dense.apply(dense.init(jax.random.PRNGKey(int(seed)), x_batch), x_batch).reshape(-1)


class MultiParam(nnx.Module):
    def __init__(self, in_features, out_features, rngs):
        self.kernel = nnx.Param(jax.random.normal(rngs.params(), (in_features, out_features)) / jnp.sqrt(in_features))
        self.bias = nnx.Param(jnp.zeros((out_features,)))
        self.count = nnx.Variable(jnp.array(0.0))

    def __call__(self, x):
        return x @ self.kernel[...] + self.bias[...]


def multi_param_forward(seed, x, features):
    x = jnp.asarray(x)
    return MultiParam(x.shape[-1], int(features), rngs=nnx.Rngs(int(seed)))(x)
