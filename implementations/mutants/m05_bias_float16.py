"""Mutant: the bias is float16.

Violates document 05, 'Worked example' (bias = jnp.zeros((out,)), float32).
"""

import jax.numpy as jnp
from conformance.implementations.reference import MultiParam as _Reference
from flax import nnx

DOCUMENT = "05"
DEFECT = "bias stored as float16"
CAUGHT_BY = ("05-bias-dtype-is-float32",)


class MultiParam(_Reference):
    def __init__(self, in_features, out_features, rngs):
        super().__init__(in_features, out_features, rngs)
        self.bias = nnx.Param(jnp.zeros((out_features,), jnp.float16))
