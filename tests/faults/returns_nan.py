"""Fault: returns NaN."""

import jax.numpy as jnp


def multi_param_forward(seed, x, features):
    return jnp.full((int(features),), jnp.nan)
