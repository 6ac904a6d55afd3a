"""Mutant: ignores the seed and always initialises with PRNGKey(0).

Violates document 01, 'Problem' (seed is the PRNG seed).
"""

from conformance.implementations.mutants._common import init_apply, key
from conformance.implementations.reference import SharedDense

DOCUMENT = "01"
DEFECT = "seed argument ignored: always PRNGKey(0)"
CAUGHT_BY = ("01-forward-seed-determines-output", "01-forward-matches-construction")


def shared_dense_forward(seed, x, hidden):
    return init_apply(SharedDense(int(hidden)), key(0), x).reshape(-1)
