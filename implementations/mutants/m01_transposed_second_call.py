"""Mutant: the second call uses the transposed kernel (shapes agree because K is square).

Violates document 01, 'The pattern': both calls apply the same transformation.
"""

import jax
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "second call uses K.T (square kernels hide it from shape checks)"
CAUGHT_BY = ("01-module-matches-oracle",)


class _Dense(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x, transpose=False):
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        return x @ (kernel.T if transpose else kernel) + bias


class SharedDense(nn.Module):
    hidden: int

    def setup(self):
        self.shared = _Dense(self.hidden)

    def __call__(self, x):
        return jax.nn.relu(self.shared(jax.nn.relu(self.shared(x)), transpose=True))
