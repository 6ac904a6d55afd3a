"""Fault: returns integers."""

import jax.numpy as jnp


def multi_param_forward(seed, x, features):
    return jnp.zeros((int(features),), dtype=jnp.int32)
