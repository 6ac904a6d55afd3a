"""Flax mutant: nnx.BatchStat is nnx.Variable itself, not a type of its own."""

from flax import nnx

DOCUMENT = "05"
DEFECT = "nnx.BatchStat is an alias of nnx.Variable"
CAUGHT_BY = ("05-fw-custom-variable-types",)


def patch(mp):
    mp.setattr(nnx, "BatchStat", nnx.Variable)
