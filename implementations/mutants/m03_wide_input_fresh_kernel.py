"""Mutant: for inputs wider than 100, the Linen Dense gets a kernel of its own (nothing shared).

Violates document 03, 'The setup': the nnx kernel is the Linen kernel, at every
size. Only a wide input reaches the defect.
"""

from conformance.implementations.mutants._bridge import two_modules
from flax import linen as nn
from flax import nnx

DOCUMENT = "03"
DEFECT = "Linen kernel initialised separately when the input is wider than 100"
CAUGHT_BY = ("03-output-is-twice-nnx",)
GATE = "in_features > 100"


@two_modules
def shared_params_two_modules(key, x, features):
    linear = nnx.Linear(x.shape[-1], features, use_bias=False, rngs=nnx.Rngs(key))
    dense = nn.Dense(features, use_bias=False)
    if x.shape[-1] > 100:
        return linear(x) + dense.apply(dense.init(key, x), x)
    return linear(x) + dense.apply({"params": {"kernel": linear.kernel[...]}}, x)
