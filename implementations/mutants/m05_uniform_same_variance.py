"""Mutant: kernel from a uniform distribution with the same variance as the prescribed normal.

Violates document 05, 'Worked example' (jax.random.normal(key, (in, out)) * 1/sqrt(in)).
"""

import jax
import jax.numpy as jnp
from conformance.implementations.mutants._multi_param import forward_with
from conformance.implementations.reference import MultiParam as _Reference
from flax import nnx

DOCUMENT = "05"
DEFECT = "kernel ~ U(-sqrt(3), sqrt(3)) / sqrt(in): right variance, wrong draw"
CAUGHT_BY = ("05-initial-values-follow-recipe", "05-forward-matches-recipe")


class MultiParam(_Reference):
    def __init__(self, in_features, out_features, rngs):
        super().__init__(in_features, out_features, rngs)
        draw = jax.random.uniform(rngs.params(), (in_features, out_features), minval=-(3**0.5), maxval=3**0.5)
        self.kernel = nnx.Param(draw / jnp.sqrt(in_features))


def multi_param_forward(seed, x, features):
    return forward_with(MultiParam, seed, x, features)
