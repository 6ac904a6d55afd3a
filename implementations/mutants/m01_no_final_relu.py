"""Mutant: returns the second call's output without the final relu.

Violates document 01, 'Problem': h2 = relu(shared(h1)).
"""

import jax
from conformance.implementations.mutants._common import init_apply, key
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "no relu after the second call, so outputs can be negative"
CAUGHT_BY = ("01-forward-flat-nonnegative",)


class _SharedDenseNoFinalRelu(nn.Module):
    hidden: int

    def setup(self):
        self.shared = nn.Dense(self.hidden, name="shared")

    def __call__(self, x):
        return self.shared(jax.nn.relu(self.shared(x)))


def shared_dense_forward(seed, x, hidden):
    return init_apply(_SharedDenseNoFinalRelu(int(hidden)), key(seed), x).reshape(-1)
