"""Mutant: the models add an outer residual around each block, as the document's text writes.

Document 04, section 2 writes the update rule as h_l = h_{l-1} + Block(h_{l-1});
its code (which the suite follows) keeps the residuals inside the block and
returns LN2's output, h_l = Block(h_{l-1}). A port that follows the text adds a
second residual per layer, and every layer's output is then no longer
normalised: the models compute another function.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer as _Shared
from conformance.implementations.transformer import TransformerBlock
from conformance.implementations.transformer import UnsharedTransformer as _Unshared
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "h_l = h_{l-1} + Block(h_{l-1}) in both models (the text's rule, a second residual per layer)"
CAUGHT_BY = ("04-unshared-runs-its-layers-in-order", "04-shared-all-is-block-applied-l-times")


class UnsharedTransformer(_Unshared):
    @nn.compact
    def __call__(self, x):
        for i in range(self.num_layers):
            x = x + self.block(self.d_model, self.num_heads, self.d_ff, name=f"layers_{i}")(x)  # defect
        return x


class SharedTransformer(_Shared):
    def __call__(self, x):
        if self.share != "all":
            return super().__call__(x)
        for _ in range(self.num_layers):
            x = x + self.shared_block(x)  # defect
        return x
