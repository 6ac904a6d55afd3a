"""Mutant: flattens the (N, hidden) output column-major.

Violates document 01, 'Problem': the output is out.reshape(-1), row by row.
"""

from conformance.implementations.mutants._common import init_apply, key
from conformance.implementations.reference import SharedDense

DOCUMENT = "01"
DEFECT = "output flattened column-major (out.T.reshape(-1))"
CAUGHT_BY = ("01-forward-matches-construction", "01-forward-rows-independent")


def shared_dense_forward(seed, x, hidden):
    return init_apply(SharedDense(int(hidden)), key(seed), x).T.reshape(-1)
