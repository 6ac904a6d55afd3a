"""Mutant: the Linen Dense gets its own freshly initialised kernel instead of the nnx one.

Violates document 03, 'The setup': take the nnx kernel array and use it as the Linen kernel.
"""
import jax
import jax.numpy as jnp
from flax import linen as nn
from flax import nnx

DOCUMENT = "03"
DEFECT = "Linen kernel initialised separately with PRNGKey(seed): nothing is shared"
CAUGHT_BY = ("03-output-is-twice-nnx",)


def shared_params_two_modules(seed, x, features):
    x = jnp.asarray(x)
    linear = nnx.Linear(x.shape[-1], int(features), use_bias=False, rngs=nnx.Rngs(int(seed)))
    dense = nn.Dense(int(features), use_bias=False)
    own = dense.init(jax.random.PRNGKey(int(seed)), x)
    return linear(x) + dense.apply(own, x)
