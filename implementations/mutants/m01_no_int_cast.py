"""Mutant: does not cast hidden to int, so a float hidden (as the contract allows) breaks.

Violates document 01, 'Problem': hidden arrives as a float and is cast to int.
"""

import jax
from conformance.implementations.mutants._common import init_apply
from conformance.implementations.reference import SharedDense

DOCUMENT = "01"
DEFECT = "hidden and seed used without int(): float arguments raise"
CAUGHT_BY = ("01-forward-matches-construction",)


def shared_dense_forward(seed, x, hidden):
    return init_apply(SharedDense(hidden), jax.random.PRNGKey(seed), x).reshape(-1)
