"""Mutant: VmappedDense is plain nn.Dense, not lifted by nn.vmap.

Violates document 02, 'The canonical incantation' (VmappedDense = nn.vmap(nn.Dense, ...)).
On (B, in) batches nn.Dense gives the same params and outputs, since it maps over
leading axes itself; only an input the lifted module maps differently tells them apart.
"""

from conformance.implementations.mutants._vmap import forward_with
from flax import linen as nn

DOCUMENT = "02"
DEFECT = "VmappedDense = nn.Dense: no nn.vmap, so a 1-D input is one example instead of a batch of scalars"
CAUGHT_BY = ("02-module-maps-over-leading-axis",)

VmappedDense = nn.Dense


def nn_vmap_forward(seed, x_batch, features):
    return forward_with(VmappedDense, seed, x_batch, features)
