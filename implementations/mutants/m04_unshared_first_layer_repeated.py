"""Mutant: the unshared model holds L layers but runs the first one L times.

Document 04, section 2: without sharing, every layer has its own parameters.
Here every layer's parameters are created (init runs each block once), but
the forward pass applies layers_0 at every depth: the parameter count, the
layout and the FLOPs are right, and so is every property that puts the same
block in every layer. The other layers' parameters never reach the output.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer, TransformerBlock
from conformance.implementations.transformer import UnsharedTransformer as _Reference
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "UnsharedTransformer creates L blocks but applies layers_0 at every depth"
CAUGHT_BY = ("04-unshared-runs-its-layers-in-order", "04-unshared-layer-grads-match-oracle")


class UnsharedTransformer(_Reference):
    @nn.compact
    def __call__(self, x):
        blocks = [
            self.block(self.d_model, self.num_heads, self.d_ff, name=f"layers_{i}") for i in range(self.num_layers)
        ]
        if self.is_initializing():
            for block in blocks[1:]:
                block(x)  # the parameters exist ...
        for _ in blocks:
            x = blocks[0](x)  # defect: ... but only the first layer's are used
        return x
