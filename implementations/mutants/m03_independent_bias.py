"""Mutant: shares the kernel but gives the Linen side its own bias (of ones).

Violates document 03, 'Common pitfalls' (independent biases make the result asymmetric).
"""

import jax.numpy as jnp
from conformance.implementations.mutants._bridge import two_modules
from flax import linen as nn
from flax import nnx

DOCUMENT = "03"
DEFECT = "Linen side has its own bias: output 2xK + 1, no longer linear"
CAUGHT_BY = ("03-output-linear-in-x", "03-output-is-twice-nnx")


@two_modules
def shared_params_two_modules(key, x, features):
    linear = nnx.Linear(x.shape[-1], features, use_bias=False, rngs=nnx.Rngs(key))
    params = {"params": {"kernel": linear.kernel[...], "bias": jnp.ones((features,))}}
    return linear(x) + nn.Dense(features).apply(params, x)
