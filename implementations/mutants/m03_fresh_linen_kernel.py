"""Mutant: the Linen Dense gets its own freshly initialised kernel instead of the nnx one.

Violates document 03, 'The setup': take the nnx kernel array and use it as the Linen kernel.
"""

from conformance.implementations.mutants._bridge import two_modules
from flax import linen as nn
from flax import nnx

DOCUMENT = "03"
DEFECT = "Linen kernel initialised separately with PRNGKey(seed): nothing is shared"
CAUGHT_BY = ("03-output-is-twice-nnx",)


@two_modules
def shared_params_two_modules(key, x, features):
    linear = nnx.Linear(x.shape[-1], features, use_bias=False, rngs=nnx.Rngs(key))
    dense = nn.Dense(features, use_bias=False)
    own = dense.init(key, x)
    return linear(x) + dense.apply(own, x)
