"""Mutant: share="all" shares attention and FFN but gives every layer its own LayerNorms.

Document 04, section 2 (All-layer sharing, ALBERT-style): "Share the entire
Transformer block", and the document's code reuses one ``TransformerBlock``
with its ``norm1``/``norm2``. Here one attention and one FFN are passed to L
blocks, each of which still creates its own two LayerNorms: A + F + 2N L
parameters instead of A + F + 2N. Outputs at init are identical to the
reference's, because LayerNorms start at scale 1 and bias 0.
"""

from __future__ import annotations

from conformance.implementations.transformer import FFN, TransformerBlock, UnsharedTransformer, attention
from conformance.implementations.transformer import SharedTransformer as _Reference

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "share='all' shares attention and FFN only; each layer has its own two LayerNorms"
CAUGHT_BY = (
    "04-params-shared-all-is-one-block",
    "04-sharing-layout-by-piece",
    "04-shared-all-is-block-applied-l-times",
    "04-unshared-with-copied-block-equals-shared",
    "04-shared-grad-is-sum-of-layer-grads",
)


class SharedTransformer(_Reference):
    def setup(self):
        if self.share != "all":
            return super().setup()
        self.attention = attention(self.d_model, self.num_heads)
        self.ffn = FFN(self.d_model, self.d_ff)
        # defect: L blocks, so L pairs of LayerNorms; only the two sub-layers are shared
        self.layers = [
            TransformerBlock(
                self.d_model, self.num_heads, self.d_ff, shared_attention=self.attention, shared_ffn=self.ffn
            )
            for _ in range(self.num_layers)
        ]

    def __call__(self, x):
        if self.share != "all":
            return super().__call__(x)
        for layer in self.layers:
            x = layer(x)
        return x
