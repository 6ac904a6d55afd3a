"""Mutant: initialises with PRNGKey(seed + 1).

Violates document 01, 'Problem': init on (PRNGKey(seed), x).
"""

from conformance.implementations.mutants._common import init_apply, key
from conformance.implementations.reference import SharedDense

DOCUMENT = "01"
DEFECT = "init key is PRNGKey(seed + 1)"
CAUGHT_BY = ("01-forward-matches-construction",)


def shared_dense_forward(seed, x, hidden):
    return init_apply(SharedDense(int(hidden)), key(int(seed) + 1), x).reshape(-1)
