"""Mutant: for more than 100 output features, the bias starts at ones.

Violates document 05, 'Worked example' (bias = zeros), at every size. Only a wide
layer reaches the defect.
"""

import jax.numpy as jnp
from conformance.implementations.mutants._multi_param import forward_with
from conformance.implementations.reference import MultiParam as _Reference
from flax import nnx

DOCUMENT = "05"
DEFECT = "bias initialised to ones when out_features > 100"
CAUGHT_BY = ("05-initial-values-follow-recipe", "05-forward-matches-recipe")
GATE = "out_features > 100"


class MultiParam(_Reference):
    def __init__(self, in_features, out_features, rngs):
        super().__init__(in_features, out_features, rngs)
        if out_features > 100:
            self.bias = nnx.Param(jnp.ones((out_features,)))


def multi_param_forward(seed, x, features):
    return forward_with(MultiParam, seed, x, features)
