"""Mutant: returns the nnx output alone, forgetting the Linen half.

Violates document 03, 'Problem' (return nnx_out + linen_out, twice either one).
"""

from conformance.implementations.mutants._bridge import two_modules
from flax import nnx

DOCUMENT = "03"
DEFECT = "only the nnx output: 1x instead of 2x"
CAUGHT_BY = ("03-output-is-twice-nnx",)


@two_modules
def shared_params_two_modules(key, x, features):
    return nnx.Linear(x.shape[-1], features, use_bias=False, rngs=nnx.Rngs(key))(x)
