"""Mutant: LayerNorms keep Flax's default epsilon, 1e-6.

Document 04, section 4 (Code Implementation): the document's ``nn.LayerNorm``
is PyTorch's, eps 1e-5. ``flax.linen.LayerNorm`` defaults to 1e-6. On rows of
unit variance the outputs differ by ~1e-5 relative; on rows of variance ~eps by
tens of percent.
"""

from __future__ import annotations

from flax import linen as nn

from implementations.transformer import FFN, SHARE_MODES, attention

__all__ = ["TransformerBlock", "UnsharedTransformer", "SharedTransformer"]

DOCUMENT = "04"
DEFECT = "nn.LayerNorm() with Flax's default epsilon 1e-6 instead of PyTorch's 1e-5"
CAUGHT_BY = ("04-block-layernorm-eps-is-pytorch",)


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
        x = nn.LayerNorm(name="norm1")(x + attn(x, x))  # defect: epsilon defaults to 1e-6
        return nn.LayerNorm(name="norm2")(x + ffn(x))


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
