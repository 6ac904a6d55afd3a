"""Mutant: above d_model 512, the LayerNorms fall back to Flax's default eps 1e-6.

Document 04, section 4: the block's LayerNorms use PyTorch's eps 1e-5. A port
with a separate path for wide models (a fused kernel, say) that forgets to pass
the epsilon uses Flax's 1e-6 there; the document's own d_model 512 and below
are exact, BERT-base's 768 is not.
"""

from __future__ import annotations

from conformance.implementations.transformer import TransformerBlock as _Block
from conformance.implementations.transformer import with_block
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "above d_model 512, the LayerNorms use eps 1e-6"
CAUGHT_BY = ("04-block-layernorm-eps-is-pytorch",)
GATE = "d_model > 512"


class TransformerBlock(_Block):
    @nn.compact
    def __call__(self, x):
        attn, ffn = self.sublayers()
        eps = 1e-6 if self.d_model > 512 else self.layer_norm_eps  # defect
        x = nn.LayerNorm(epsilon=eps, name="norm1")(x + attn(x, x))
        return nn.LayerNorm(epsilon=eps, name="norm2")(x + ffn(x))


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
