"""Mutant: the unshared model runs its layers last to first.

Document 04, section 4: the unshared forward applies layer 1, then layer 2, ...
each to the previous output. Here layers_{L-1} runs first and layers_0 last. Each
layer is a correct block with its own parameters, so counts, layout and every
property that puts one block in every layer pass; only distinct per-layer
parameters, held to the order the layers sit in, tell.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer, TransformerBlock
from conformance.implementations.transformer import UnsharedTransformer as _Reference
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "UnsharedTransformer applies layers_{L-1} first and layers_0 last"
CAUGHT_BY = ("04-unshared-runs-its-layers-in-order",)


class UnsharedTransformer(_Reference):
    @nn.compact
    def __call__(self, x):
        blocks = [
            self.block(self.d_model, self.num_heads, self.d_ff, name=f"layers_{i}") for i in range(self.num_layers)
        ]
        for block in reversed(blocks):  # defect: last to first
            x = block(x)
        return x
