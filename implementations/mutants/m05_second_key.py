"""Mutant: draws the kernel with the second rngs.params() key instead of the first.

Violates document 05, 'Worked example' (key = rngs.params(), used for the kernel).
"""

import jax
import jax.numpy as jnp
from conformance.implementations.mutants._multi_param import forward_with
from flax import nnx

DOCUMENT = "05"
DEFECT = "kernel drawn with the second params key"
CAUGHT_BY = ("05-initial-values-follow-recipe", "05-forward-matches-recipe")


class MultiParam(nnx.Module):
    def __init__(self, in_features, out_features, rngs):
        rngs.params()  # the first key is wasted
        key = rngs.params()
        self.kernel = nnx.Param(jax.random.normal(key, (in_features, out_features)) / jnp.sqrt(in_features))
        self.bias = nnx.Param(jnp.zeros((out_features,)))
        self.count = nnx.Variable(jnp.array(0.0))

    def __call__(self, x):
        return x @ self.kernel[...] + self.bias[...]


def multi_param_forward(seed, x, features):
    return forward_with(MultiParam, seed, x, features)
