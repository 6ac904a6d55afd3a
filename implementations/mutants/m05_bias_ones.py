"""Mutant: bias starts at ones.

Violates document 05, 'Worked example' (bias = zeros) and the sanity check that
with zero bias the output equals the bias-less Linear's.
"""

import jax.numpy as jnp
from conformance.implementations.mutants._multi_param import forward_with
from conformance.implementations.reference import MultiParam as _Reference
from flax import nnx

DOCUMENT = "05"
DEFECT = "bias initialised to ones"
CAUGHT_BY = ("05-initial-values-follow-recipe", "05-forward-matches-recipe")


class MultiParam(_Reference):
    def __init__(self, in_features, out_features, rngs):
        super().__init__(in_features, out_features, rngs)
        self.bias = nnx.Param(jnp.ones((out_features,)))


def multi_param_forward(seed, x, features):
    return forward_with(MultiParam, seed, x, features)
