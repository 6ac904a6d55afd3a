"""Pieces shared by mutants, so each mutant's file shows only its defect.

Mutants run the whole catalogue many times over in `conformance mutants`, so
their forward passes are compiled once per model and shape, like the reference's.
"""

import functools

import jax
import jax.numpy as jnp


@functools.cache  # Linen modules are frozen dataclasses: equal configurations share one entry
def _compiled(model):
    return jax.jit(lambda key, x: model.apply(model.init(key, x), x))


def init_apply(model, key, x):
    return _compiled(model)(key, jnp.asarray(x))


def key(seed):
    return jax.random.PRNGKey(int(seed))
