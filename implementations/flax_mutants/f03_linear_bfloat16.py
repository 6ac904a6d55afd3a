"""Flax mutant: nnx.Linear multiplies in bfloat16 by default."""

import jax.numpy as jnp
from flax import nnx

DOCUMENT = "03"
DEFECT = "nnx.Linear computes x @ kernel in bfloat16"
CAUGHT_BY = ("03-fw-linen-reproduces-nnx",)


def patch(mp):
    def call(self, x):
        y = (jnp.asarray(x, jnp.bfloat16) @ self.kernel[...].astype(jnp.bfloat16)).astype(jnp.float32)
        return y if self.bias is None else y + self.bias[...]

    mp.setattr(nnx.Linear, "__call__", call)
