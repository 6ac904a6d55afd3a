"""Mutant: attention logits are not divided by sqrt(head_dim).

Document 04, section 4 (Code Implementation): ``torch.nn.MultiheadAttention``
computes softmax(q k^T / sqrt(head_dim)) v. This block passes an attention
function that skips the scaling. Parameter counts and shapes are right.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

from implementations.transformer import FFN, LAYER_NORM_EPS, SHARE_MODES

__all__ = ["TransformerBlock", "UnsharedTransformer", "SharedTransformer"]

DOCUMENT = "04"
DEFECT = "softmax(q k^T) v without the 1/sqrt(head_dim) scaling"
CAUGHT_BY = ("04-block-matches-oracle",)


def _unscaled(query, key, value, **_):
    weights = jax.nn.softmax(jnp.einsum("...qhd,...khd->...hqk", query, key), axis=-1)  # defect: no / sqrt(d)
    return jnp.einsum("...hqk,...khd->...qhd", weights, value)


def attention(d_model: int, num_heads: int, name: str | None = None) -> nn.Module:
    return nn.MultiHeadDotProductAttention(num_heads=num_heads, qkv_features=d_model, out_features=d_model,
                                           attention_fn=_unscaled, deterministic=True, name=name)


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
