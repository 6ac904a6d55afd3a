"""Mutant: applies relu to the sum of both outputs.

Agrees with 2 x K wherever that is positive. Violates document 03, 'Problem'.
"""

import jax
from conformance.implementations.mutants._bridge import two_modules
from flax import linen as nn
from flax import nnx

DOCUMENT = "03"
DEFECT = "relu on the sum: right for positive outputs, zero elsewhere"
CAUGHT_BY = ("03-output-linear-in-x",)


@two_modules
def shared_params_two_modules(key, x, features):
    linear = nnx.Linear(x.shape[-1], features, use_bias=False, rngs=nnx.Rngs(key))
    linen = nn.Dense(features, use_bias=False).apply({"params": {"kernel": linear.kernel[...]}}, x)
    return jax.nn.relu(linear(x) + linen)
