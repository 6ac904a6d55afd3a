"""Flax mutant: with params stacked on axis 0, example i is computed with member i - 1 of the stack.

Shapes, init values and the output shape are unchanged: only which member
serves which example is off by one.
"""

import jax
import jax.numpy as jnp
from flax import linen as nn

DOCUMENT = "02"
DEFECT = "nn.vmap with variable_axes {'params': 0} pairs example i with the params of member i - 1"
CAUGHT_BY = ("02-fw-stacked-params-row-uses-own-member",)


def patch(mp):
    original = nn.vmap

    def roll(tree):
        return jax.tree_util.tree_map(lambda v: jnp.roll(v, 1, axis=0), tree)

    def vmap(target, *args, **kwargs):
        lifted = original(target, *args, **kwargs)
        if kwargs.get("variable_axes", {}).get("params") == 0:
            return nn.map_variables(lifted, "params", trans_in_fn=roll, init=True, mutable=True)
        return lifted

    mp.setattr(nn, "vmap", vmap)
