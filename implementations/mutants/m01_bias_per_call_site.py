"""Mutant: the kernel is shared but each call site has its own bias.

Both biases start at zero, so outputs at init are right; only the param tree
shows the extra entry. Violates document 01, 'Verifying the sharing' (2 leaves).
"""

import jax
from flax import linen as nn

DOCUMENT = "01"
DEFECT = "shared kernel with a separate bias per call site: 3 param leaves, outputs equal at init"
CAUGHT_BY = ("01-params-one-shared-entry",)


class _TwoBiasDense(nn.Module):
    features: int

    @nn.compact
    def __call__(self, x, site):
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (x.shape[-1], self.features))
        bias = self.param(f"bias_{site}", nn.initializers.zeros, (self.features,))
        return x @ kernel + bias


class SharedDense(nn.Module):
    hidden: int

    def setup(self):
        self.shared = _TwoBiasDense(self.hidden)

    def __call__(self, x):
        return jax.nn.relu(self.shared(jax.nn.relu(self.shared(x, 1)), 2))
