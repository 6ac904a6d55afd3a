"""The document-05 forward function over any MultiParam class, for the mutants.

Compiled per class and shape; nnx.Rngs(seed) draws what nnx.Rngs(PRNGKey(seed))
draws (a framework property checks this), so the key can be a traced argument.
"""

import functools

import jax
import jax.numpy as jnp
from flax import nnx


@functools.cache
def _compiled(module_cls, features):
    return jax.jit(lambda key, x: module_cls(x.shape[-1], features, rngs=nnx.Rngs(key))(x))


def forward_with(module_cls, seed, x, features):
    return _compiled(module_cls, int(features))(jax.random.PRNGKey(int(seed)), jnp.asarray(x))
