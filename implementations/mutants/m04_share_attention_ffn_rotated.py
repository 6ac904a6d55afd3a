"""Mutant: with one attention shared, each layer runs the next layer's FFN.

Document 04, section 2: attention-only sharing keeps a per-layer FFN, used by its
own layer. Here share='attention' creates the L FFNs once each, but layer i is
wired to FFN (i + 1) mod L: the right parameters, counted right, wired to the
wrong layers.
"""

from __future__ import annotations

from conformance.implementations.transformer import FFN, TransformerBlock, UnsharedTransformer
from conformance.implementations.transformer import SharedTransformer as _Reference

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "share='attention' wires layer i to the FFN of layer (i + 1) mod L"
CAUGHT_BY = ("04-share-attention-equals-unshared-twin",)


class SharedTransformer(_Reference):
    def setup(self):
        if self.share != "attention":
            return super().setup()
        dims = (self.d_model, self.num_heads, self.d_ff)
        self.attention = self.block.make_attention(self.d_model, self.num_heads)
        self.ffns = [FFN(self.d_model, self.d_ff) for _ in range(self.num_layers)]
        self.layers = [
            self.block(
                *dims, shared_attention=self.attention, shared_ffn=self.ffns[(i + 1) % self.num_layers]
            )  # defect
            for i in range(self.num_layers)
        ]
