"""Mutant: for hidden wider than 64, the inner relu is skipped (a code path switched on by width).

Violates document 01, 'The pattern': relu after each call, at every width. Small
fixed shapes never reach the defect; the run's shape pool does.
"""

import jax
from conformance.implementations.mutants._common import init_apply, key
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "no relu between the two calls when hidden > 64"
CAUGHT_BY = ("01-module-matches-oracle", "01-forward-matches-construction")
GATE = "hidden > 64"


class SharedDense(nn.Module):
    hidden: int

    def setup(self):
        self.shared = nn.Dense(self.hidden, name="shared")

    def __call__(self, x):
        h1 = self.shared(x)
        if self.hidden <= 64:
            h1 = jax.nn.relu(h1)
        return jax.nn.relu(self.shared(h1))


def shared_dense_forward(seed, x, hidden):
    return init_apply(SharedDense(int(hidden)), key(seed), x).reshape(-1)
