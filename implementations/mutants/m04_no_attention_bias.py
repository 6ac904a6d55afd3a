"""Mutant: attention projections without biases.

Document 04, section 4 (Code Implementation): ``torch.nn.MultiheadAttention``
has biases on its input and output projections (in_proj_bias, out_proj.bias),
so the block holds A = 4d^2 + 4d attention parameters. This block passes
``use_bias=False`` and holds 4d^2.
"""

from __future__ import annotations

from flax import linen as nn

from implementations.transformer import FFN, LAYER_NORM_EPS, SHARE_MODES

__all__ = ["TransformerBlock", "UnsharedTransformer", "SharedTransformer"]

DOCUMENT = "04"
DEFECT = "nn.MultiHeadDotProductAttention(use_bias=False): attention holds 4d^2 instead of 4d^2+4d parameters"
CAUGHT_BY = ("04-params-block-is-a-f-2n", "04-params-unshared-is-l-blocks",
             "04-params-shared-all-is-one-block", "04-params-share-ffn", "04-params-share-attention",
             "04-sharing-layout-by-piece", "04-block-output-rows-normalised", "04-block-matches-oracle",
             "04-block-gelu-is-exact", "04-block-layernorm-eps-is-pytorch",
             "04-shared-all-is-block-applied-l-times", "04-unshared-with-copied-block-equals-shared")


def attention(d_model: int, num_heads: int, name: str | None = None) -> nn.Module:
    return nn.MultiHeadDotProductAttention(num_heads=num_heads, qkv_features=d_model, out_features=d_model,
                                           use_bias=False,  # defect: PyTorch's attention has biases
                                           deterministic=True, name=name)


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
