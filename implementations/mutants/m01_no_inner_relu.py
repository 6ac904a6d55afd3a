"""Mutant: no relu between the two calls: relu(shared(shared(x))).

Violates document 01, 'The pattern' / 'Problem': relu after each call.
"""

import jax
from conformance.implementations.mutants._common import init_apply, key
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "relu only after the second call"
CAUGHT_BY = ("01-module-matches-oracle", "01-forward-matches-construction")


class SharedDense(nn.Module):
    hidden: int

    def setup(self):
        self.shared = nn.Dense(self.hidden, name="shared")

    def __call__(self, x):
        return jax.nn.relu(self.shared(self.shared(x)))


def shared_dense_forward(seed, x, hidden):
    return init_apply(SharedDense(int(hidden)), key(seed), x).reshape(-1)
