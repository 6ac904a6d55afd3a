"""Mutant: in_axes=1, so vmap iterates over features instead of examples.

Violates document 02, 'Common pitfalls' (wrong in_axes) and 'Shape semantics'.
"""

from conformance.implementations.mutants._vmap import forward_with
from flax import linen as nn

DOCUMENT = "02"
DEFECT = "in_axes=1: the batch is taken from the feature axis"
CAUGHT_BY = ("02-forward-matches-construction", "02-params-no-batch-axis")

VmappedDense = nn.vmap(nn.Dense, in_axes=1, out_axes=0, variable_axes={"params": None}, split_rngs={"params": False})


def nn_vmap_forward(seed, x_batch, features):
    return forward_with(VmappedDense, seed, x_batch, features)
