"""Flax mutant: a plain nnx.Variable keeps a NumPy copy of a concrete jax array it is given."""

import jax
import numpy as np
from flax import nnx

DOCUMENT = "05"
DEFECT = "nnx.Variable(jax_array) holds a NumPy copy"
CAUGHT_BY = ("05-fw-variables-wrap-arrays",)


def patch(mp):
    init = nnx.Variable.__init__

    def host_init(self, value, *args, **kwargs):
        if type(self) is nnx.Variable and isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer):
            value = np.asarray(value)
        init(self, value, *args, **kwargs)

    mp.setattr(nnx.Variable, "__init__", host_init)
