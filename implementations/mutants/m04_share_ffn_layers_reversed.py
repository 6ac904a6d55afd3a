"""Mutant: with one FFN shared, the layers run last to first.

Document 04, section 2: FFN-only sharing keeps a per-layer attention and per-layer
LayerNorms, used by their own layer in order. Here share='ffn' applies layers_{L-1}
first: one FFN, L attentions and 2L LayerNorms as counted, the right layout, but
layer 1's computation uses the parameters laid out as the last layer's.
"""

from __future__ import annotations

from conformance.implementations.transformer import SharedTransformer as _Reference
from conformance.implementations.transformer import TransformerBlock, UnsharedTransformer

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "share='ffn' runs its per-layer attention and LayerNorms last to first"
CAUGHT_BY = ("04-share-ffn-equals-unshared-twin",)


class SharedTransformer(_Reference):
    def __call__(self, x):
        if self.share != "ffn":
            return super().__call__(x)
        for layer in reversed(self.layers):  # defect
            x = layer(x)
        return x
