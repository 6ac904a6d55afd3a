"""Mutant: no gradient reaches the layers below the last one.

Document 04, section 2: each of the L layers is trained with its own
parameters. Here a ``stop_gradient`` sits before the last layer: every output
is right, and so is every count, but training would only ever update the last
layer.
"""

from __future__ import annotations

import jax
from conformance.implementations.transformer import SharedTransformer, TransformerBlock
from conformance.implementations.transformer import UnsharedTransformer as _Reference
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "UnsharedTransformer stops the gradient before its last layer"
CAUGHT_BY = ("04-unshared-layer-grads-match-oracle",)


class UnsharedTransformer(_Reference):
    @nn.compact
    def __call__(self, x):
        for i in range(self.num_layers):
            if i == self.num_layers - 1:
                x = jax.lax.stop_gradient(x)  # defect
            x = self.block(self.d_model, self.num_heads, self.d_ff, name=f"layers_{i}")(x)
        return x
