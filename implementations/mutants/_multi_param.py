"""The document-05 forward function over any MultiParam class, for the mutants."""

import jax.numpy as jnp
from flax import nnx


def forward_with(module_cls, seed, x, features):
    x = jnp.asarray(x)
    return module_cls(x.shape[-1], int(features), rngs=nnx.Rngs(int(seed)))(x)
