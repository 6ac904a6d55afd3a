"""Pieces shared by mutants, so each mutant's file shows only its defect."""

import jax
import jax.numpy as jnp


def init_apply(model, key, x):
    x = jnp.asarray(x)
    variables = model.init(key, x)
    return model.apply(variables, x)


def key(seed):
    return jax.random.PRNGKey(int(seed))
