"""Mutant: applies relu to the sum of both outputs.

Agrees with 2 x K wherever that is positive. Violates document 03, 'Problem'.
"""
import jax
import jax.numpy as jnp
from flax import linen as nn
from flax import nnx

DOCUMENT = "03"
DEFECT = "relu on the sum: right for positive outputs, zero elsewhere"
CAUGHT_BY = ("03-output-linear-in-x",)


def shared_params_two_modules(seed, x, features):
    x = jnp.asarray(x)
    linear = nnx.Linear(x.shape[-1], int(features), use_bias=False, rngs=nnx.Rngs(int(seed)))
    linen = nn.Dense(int(features), use_bias=False).apply({"params": {"kernel": linear.kernel[...]}}, x)
    return jax.nn.relu(linear(x) + linen)
