"""Mutant: variable_axes {'params': 0} with split_rngs True: an ensemble of B Dense layers.

Violates document 02, 'Common pitfalls' (the first two): params gain a batch axis.
"""

from conformance.implementations.mutants._vmap import forward_with
from flax import linen as nn

DOCUMENT = "02"
DEFECT = "params stacked on a batch axis, one init key per row: kernel (B, in, F)"
CAUGHT_BY = ("02-params-no-batch-axis", "02-forward-matches-construction", "02-module-rows-are-single-applies")

VmappedDense = nn.vmap(nn.Dense, in_axes=0, out_axes=0, variable_axes={"params": 0}, split_rngs={"params": True})


def nn_vmap_forward(seed, x_batch, features):
    return forward_with(VmappedDense, seed, x_batch, features)
