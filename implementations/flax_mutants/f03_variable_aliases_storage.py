"""Flax mutant: a Param hands out its storage, and assignment writes into it in place."""

import jax
import numpy as np
from flax import nnx

DOCUMENT = "03"
DEFECT = "param[...] returns a mutable buffer that later assignments overwrite"
CAUGHT_BY = ("03-fw-reassignment-not-mirrored", "03-fw-shared-array-is-immutable")


def patch(mp):
    get, put = nnx.Param.__getitem__, nnx.Param.__setitem__
    buffers: dict[int, np.ndarray] = {}

    def getitem(self, key):
        value = get(self, key)
        if key is not Ellipsis or isinstance(value, jax.core.Tracer):
            return value
        return buffers.setdefault(id(self), np.array(value))

    def setitem(self, key, value):
        put(self, key, value)
        if key is Ellipsis and id(self) in buffers:
            np.copyto(buffers[id(self)], np.asarray(value))

    mp.setattr(nnx.Param, "__getitem__", getitem)
    mp.setattr(nnx.Param, "__setitem__", setitem)
