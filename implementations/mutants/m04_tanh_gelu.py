"""Mutant: the FFN uses Flax's default GELU, the tanh approximation.

Document 04, section 4 (Code Implementation): the document's FFN is
``nn.Linear -> nn.GELU() -> nn.Linear`` in PyTorch, whose GELU is exact (erf).
``flax.linen.gelu`` defaults to ``approximate=True``; this block keeps that
default. Outputs move by up to ~1e-4, inside a worst-case rounding bound for a
whole block, so only a probe that isolates the GELU sees it.
"""

from __future__ import annotations

from flax import linen as nn

from implementations.transformer import LAYER_NORM_EPS, SHARE_MODES, attention

__all__ = ["TransformerBlock", "UnsharedTransformer", "SharedTransformer"]

DOCUMENT = "04"
DEFECT = "nn.gelu with its default approximate=True (tanh) instead of PyTorch's exact GELU"
CAUGHT_BY = ("04-block-gelu-is-exact",)


class FFN(nn.Module):
    d_model: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        x = nn.Dense(self.d_ff, name="fc1")(x)
        x = nn.gelu(x)  # defect: Flax's default is the tanh approximation
        return nn.Dense(self.d_model, name="fc2")(x)


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
        x = nn.LayerNorm(epsilon=LAYER_NORM_EPS, name="norm1")(x + attn(x, x))
        return nn.LayerNorm(epsilon=LAYER_NORM_EPS, name="norm2")(x + ffn(x))


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
