"""Mutant: the shared Dense initialises its bias to ones.

Violates document 01, 'Problem' (a plain nn.Dense, whose bias starts at zero).
"""

from conformance.implementations.mutants._common import init_apply, key
from conformance.implementations.reference import SharedDense as _Reference
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "bias initialised to ones"
CAUGHT_BY = ("01-forward-positive-homogeneous", "01-forward-matches-construction")


class _SharedDense(_Reference):
    def setup(self):
        self.shared = nn.Dense(self.hidden, name="shared", bias_init=nn.initializers.ones)


def shared_dense_forward(seed, x, hidden):
    return init_apply(_SharedDense(int(hidden)), key(seed), x).reshape(-1)
