"""Mutant: scales the kernel by 1/in instead of 1/sqrt(in) (identical when in = 1).

Violates document 05, 'Worked example'.
"""

import jax.numpy as jnp
from conformance.implementations.mutants._multi_param import forward_with
from conformance.implementations.reference import MultiParam as _Reference
from flax import nnx

DOCUMENT = "05"
DEFECT = "kernel scaled by 1/in_features"
CAUGHT_BY = ("05-initial-values-follow-recipe", "05-forward-matches-recipe")


class MultiParam(_Reference):
    def __init__(self, in_features, out_features, rngs):
        super().__init__(in_features, out_features, rngs)
        # The reference already scaled by 1/sqrt(in); this applies it twice.
        self.kernel = nnx.Param(self.kernel[...] / jnp.sqrt(in_features))


def multi_param_forward(seed, x, features):
    return forward_with(MultiParam, seed, x, features)
