"""Mutant: share="ffn" shares the attention and share="attention" shares the FFN.

Document 04, section 2 ("FFN-only sharing: Share only the FFN sub-layer across
layers, but keep attention weights unique"; "Attention-only sharing: Share only
the attention sub-layer"). The two modes are swapped. With L = 1 nothing tells
them apart; from L = 2 the counts differ by (L-1)(A-F).
"""

from __future__ import annotations

from conformance.implementations.transformer import FFN, TransformerBlock, UnsharedTransformer, attention
from conformance.implementations.transformer import SharedTransformer as _Reference

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "share='ffn' shares the attention and share='attention' shares the FFN"
CAUGHT_BY = ("04-params-share-ffn", "04-params-share-attention", "04-sharing-layout-by-piece")


class SharedTransformer(_Reference):
    def setup(self):
        if self.share not in ("ffn", "attention"):
            return super().setup()
        dims = (self.d_model, self.num_heads, self.d_ff)
        if self.share == "ffn":  # defect: this is the attention-sharing layout
            self.attention = attention(self.d_model, self.num_heads)
            self.layers = [TransformerBlock(*dims, shared_attention=self.attention) for _ in range(self.num_layers)]
        else:  # defect: this is the FFN-sharing layout
            self.ffn = FFN(self.d_model, self.d_ff)
            self.layers = [TransformerBlock(*dims, shared_ffn=self.ffn) for _ in range(self.num_layers)]
