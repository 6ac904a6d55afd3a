"""Mutant: out_axes=1, so the output is (F, B) and flattens feature-major.

Violates document 02, 'Shape semantics' (out_axes=0, output (B, F)).
"""

from conformance.implementations.mutants._vmap import forward_with
from flax import linen as nn

DOCUMENT = "02"
DEFECT = "out_axes=1: output (F, B), flattened column by column"
CAUGHT_BY = ("02-forward-matches-construction", "02-forward-batch-prefix-and-permutation")

_Vmapped = nn.vmap(nn.Dense, in_axes=0, out_axes=1, variable_axes={"params": None}, split_rngs={"params": False})


def nn_vmap_forward(seed, x_batch, features):
    return forward_with(_Vmapped, seed, x_batch, features)
