"""Mutant: bias is an nnx.Variable, so it is never trained.

Violates document 05, 'Common pitfalls' (bias is trainable: wrap as nnx.Param).
"""

import jax.numpy as jnp
from conformance.implementations.reference import MultiParam as _Reference
from flax import nnx

DOCUMENT = "05"
DEFECT = "bias wrapped as nnx.Variable"
CAUGHT_BY = ("05-param-filter-is-kernel-and-bias", "05-sgd-step-updates-params-only")


class MultiParam(_Reference):
    def __init__(self, in_features, out_features, rngs):
        super().__init__(in_features, out_features, rngs)
        self.bias = nnx.Variable(jnp.zeros((out_features,)))
