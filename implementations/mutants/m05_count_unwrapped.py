"""Mutant: count is a bare jax array attribute, not an nnx.Variable.

Violates document 05, 'Common pitfalls' (forgetting to wrap).
"""

import jax.numpy as jnp
from conformance.implementations.reference import MultiParam as _Reference

DOCUMENT = "05"
DEFECT = "count = jnp.array(0.0) without a Variable wrapper"
CAUGHT_BY = ("05-full-state-has-all-three", "05-split-merge-keeps-state")


class MultiParam(_Reference):
    def __init__(self, in_features, out_features, rngs):
        super().__init__(in_features, out_features, rngs)
        self.count = jnp.array(0.0)
