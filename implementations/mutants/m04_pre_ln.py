"""Mutant: pre-LN blocks, as the document's code comment says, instead of the post-LN its code computes.

Document 04, section 4 (Code Implementation). The comment reads "Pre-LN
architecture" but the code is ``x = LN1(x + MHA(x)); x = LN2(x + FFN(x))``.
This block follows the comment: ``x = x + MHA(LN1(x)); x = x + FFN(LN2(x))``.
Same parameters, different function; the output rows are not normalised.
"""

from __future__ import annotations

from conformance.implementations.transformer import TransformerBlock as _Reference
from conformance.implementations.transformer import with_block
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

DOCUMENT = "04"
DEFECT = "pre-LN block x + MHA(LN1(x)), x + FFN(LN2(x)) instead of the document's post-LN code"
CAUGHT_BY = (
    "04-block-output-rows-normalised",
    "04-block-matches-oracle",
    "04-block-gelu-is-exact",
    "04-block-layernorm-eps-is-pytorch",
)


class TransformerBlock(_Reference):
    @nn.compact
    def __call__(self, x):
        attn, ffn = self.sublayers()
        h = nn.LayerNorm(epsilon=self.layer_norm_eps, name="norm1")(x)
        x = x + attn(h, h)  # defect: normalise before the sub-layer, keep the raw residual
        return x + ffn(nn.LayerNorm(epsilon=self.layer_norm_eps, name="norm2")(x))


UnsharedTransformer, SharedTransformer = with_block(TransformerBlock)
