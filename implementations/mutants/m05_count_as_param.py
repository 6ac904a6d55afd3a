"""Mutant: count is wrapped as nnx.Param, so an optimizer would train it.

Violates document 05, 'Common pitfalls' (the first one).
"""

import jax.numpy as jnp
from conformance.implementations.reference import MultiParam as _Reference
from flax import nnx

DOCUMENT = "05"
DEFECT = "count is an nnx.Param"
# Not the SGD property: count's gradient is zero, so a step leaves it at 0 anyway.
CAUGHT_BY = ("05-param-filter-is-kernel-and-bias", "05-split-merge-keeps-state")


class MultiParam(_Reference):
    def __init__(self, in_features, out_features, rngs):
        super().__init__(in_features, out_features, rngs)
        self.count = nnx.Param(jnp.array(0.0))
