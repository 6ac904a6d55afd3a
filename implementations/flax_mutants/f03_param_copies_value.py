"""Flax mutant: nnx.Param stores a copy of the array it is given (equal values, another array)."""

import jax
import jax.numpy as jnp
from flax import nnx

DOCUMENT = "03"
DEFECT = "nnx.Param(value=a) holds a copy of a, not a itself"
CAUGHT_BY = ("03-fw-param-holds-array-and-metadata", "05-fw-variables-wrap-arrays")


def patch(mp):
    init = nnx.Param.__init__

    def copy(value):
        return jnp.array(value, copy=True) if isinstance(value, jax.Array) else value

    def copying_init(self, *args, **kwargs):
        if args:
            args = (copy(args[0]), *args[1:])
        elif "value" in kwargs:
            kwargs["value"] = copy(kwargs["value"])
        init(self, *args, **kwargs)

    mp.setattr(nnx.Param, "__init__", copying_init)
