"""Mutant: flattens the (B, F) output column-major.

Violates document 02, 'Problem' (return the output flattened, (B*F,), row-major).
"""

from conformance.implementations.mutants._common import init_apply, key
from conformance.implementations.reference import VmappedDense

DOCUMENT = "02"
DEFECT = "output flattened column-major"
CAUGHT_BY = ("02-forward-matches-construction", "02-forward-batch-prefix-and-permutation")


def nn_vmap_forward(seed, x_batch, features):
    return init_apply(VmappedDense(features=int(features)), key(seed), x_batch).T.reshape(-1)
