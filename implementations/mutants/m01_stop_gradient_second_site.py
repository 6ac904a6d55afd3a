"""Mutant: the second call site reads the kernel through stop_gradient.

The forward pass is exactly right; only training would reveal that the second
site never updates the shared weights. Violates document 01, 'Why this matters'
(both call sites learn the same transformation).
"""

import jax
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "stop_gradient on the shared params at the second call: the gradient has one site's term"
CAUGHT_BY = ("01-grad-sums-call-sites",)


class _Dense(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x, frozen=False):
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        if frozen:
            kernel, bias = jax.lax.stop_gradient(kernel), jax.lax.stop_gradient(bias)
        return x @ kernel + bias


class SharedDense(nn.Module):
    hidden: int

    def setup(self):
        self.shared = _Dense(self.hidden)

    def __call__(self, x):
        return jax.nn.relu(self.shared(jax.nn.relu(self.shared(x)), frozen=True))
