"""Mutant: two inline nn.Dense in @nn.compact, so the two call sites do not share params.

Violates document 01, 'Common pitfalls' (the first one) and 'Verifying the sharing'.
"""

import jax
from conformance.implementations.mutants._common import init_apply, key
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "two nn.Dense created inline in @nn.compact: Dense_0 and Dense_1, 4 param leaves"
CAUGHT_BY = ("01-params-one-shared-entry", "01-forward-matches-construction")


class SharedDense(nn.Module):
    hidden: int

    @nn.compact
    def __call__(self, x):
        h1 = jax.nn.relu(nn.Dense(self.hidden)(x))
        return jax.nn.relu(nn.Dense(self.hidden)(h1))


def shared_dense_forward(seed, x, hidden):
    return init_apply(SharedDense(int(hidden)), key(seed), x).reshape(-1)
