"""Flax mutant: nnx.Param is a class of its own, outside the Variable hierarchy."""

from flax import nnx

DOCUMENT = "05"
DEFECT = "nnx.Param does not subclass nnx.Variable"
CAUGHT_BY = ("05-fw-param-is-a-variable",)


def patch(mp):
    class Param:
        def __init__(self, value, **metadata):
            self.value, self.metadata = value, metadata

    mp.setattr(nnx, "Param", Param)
