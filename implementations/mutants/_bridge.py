"""Turns a document-03 body ``(key, x, features)`` into the contract's function.

The body is compiled once per shape; ``key`` is PRNGKey(seed), which
nnx.Rngs(key) uses exactly as nnx.Rngs(seed) would.
"""

import functools

import jax
import jax.numpy as jnp


def two_modules(body):
    compiled = jax.jit(body, static_argnums=2)

    @functools.wraps(body)
    def shared_params_two_modules(seed, x, features):
        return compiled(jax.random.PRNGKey(int(seed)), jnp.asarray(x), int(features))

    return shared_params_two_modules
