"""Mutant: pre-LN blocks, as the document's code comment says, instead of the post-LN its code computes.

Document 04, section 4 (Code Implementation). The comment reads "Pre-LN
architecture" but the code is ``x = LN1(x + MHA(x)); x = LN2(x + FFN(x))``.
This block follows the comment: ``x = x + MHA(LN1(x)); x = x + FFN(LN2(x))``.
Same parameters, different function; the output rows are not normalised.
"""

from __future__ import annotations

from flax import linen as nn

from implementations.transformer import FFN, LAYER_NORM_EPS, SHARE_MODES, attention

__all__ = ["TransformerBlock", "UnsharedTransformer", "SharedTransformer"]

DOCUMENT = "04"
DEFECT = "pre-LN block x + MHA(LN1(x)), x + FFN(LN2(x)) instead of the document's post-LN code"
CAUGHT_BY = ("04-block-output-rows-normalised", "04-block-matches-oracle", "04-block-gelu-is-exact", "04-block-layernorm-eps-is-pytorch")


class TransformerBlock(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int
    shared_attention: nn.Module | None = None
    shared_ffn: nn.Module | None = None

    @nn.compact
    def __call__(self, x):
        attn = self.shared_attention
        if attn is None:
            attn = attention(self.d_model, self.num_heads, name="attention")
        ffn = self.shared_ffn
        if ffn is None:
            ffn = FFN(self.d_model, self.d_ff, name="ffn")
        h = nn.LayerNorm(epsilon=LAYER_NORM_EPS, name="norm1")(x)
        x = x + attn(h, h)  # defect: normalise before the sub-layer, keep the raw residual
        return x + ffn(nn.LayerNorm(epsilon=LAYER_NORM_EPS, name="norm2")(x))


class UnsharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        for i in range(self.num_layers):
            x = TransformerBlock(self.d_model, self.num_heads, self.d_ff, name=f"layers_{i}")(x)
        return x


class SharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    share: str = "all"

    def setup(self):
        if self.share not in SHARE_MODES:
            raise ValueError(f"share must be one of {SHARE_MODES}, got {self.share!r}")
        dims = (self.d_model, self.num_heads, self.d_ff)
        if self.share == "all":
            self.shared_block = TransformerBlock(*dims)
        elif self.share == "ffn":
            self.ffn = FFN(self.d_model, self.d_ff)
            self.layers = [TransformerBlock(*dims, shared_ffn=self.ffn) for _ in range(self.num_layers)]
        else:
            self.attention = attention(self.d_model, self.num_heads)
            self.layers = [TransformerBlock(*dims, shared_attention=self.attention)
                           for _ in range(self.num_layers)]

    def __call__(self, x):
        if self.share == "all":
            for _ in range(self.num_layers):
                x = self.shared_block(x)
            return x
        for layer in self.layers:
            x = layer(x)
        return x
