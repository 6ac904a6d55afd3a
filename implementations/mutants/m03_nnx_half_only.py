"""Mutant: returns the nnx output alone, forgetting the Linen half.

Violates document 03, 'Problem' (return nnx_out + linen_out, twice either one).
"""
import jax.numpy as jnp
from flax import nnx

DOCUMENT = "03"
DEFECT = "only the nnx output: 1x instead of 2x"
CAUGHT_BY = ("03-output-is-twice-nnx",)


def shared_params_two_modules(seed, x, features):
    x = jnp.asarray(x)
    return nnx.Linear(x.shape[-1], int(features), use_bias=False, rngs=nnx.Rngs(int(seed)))(x)
