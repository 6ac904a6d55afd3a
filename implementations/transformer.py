"""Document 04 (ALBERT-style cross-layer sharing): the reference models in Flax Linen.

A port of the PyTorch code in section 4 of the document.

Block: post-LN, as the document's *code* does it, despite its "Pre-LN" comment::

    x = LN1(x + MHA(x, x))
    x = LN2(x + FFN(x)),   FFN = Dense(d_ff) -> exact GELU -> Dense(d_model)

PyTorch's defaults are kept: exact (erf) GELU, LayerNorm eps 1e-5, attention
with biases. Flax's own defaults differ (tanh GELU, eps 1e-6), so both are set
explicitly.

``SharedTransformer(share=...)``:

- ``"all"``: one TransformerBlock applied ``num_layers`` times (ALBERT).
- ``"ffn"``: one FFN shared; attention and both LayerNorms belong to each layer.
- ``"attention"``: one attention shared; FFN and both LayerNorms belong to each layer.

A shared sub-layer is created once in ``setup()`` and handed to every layer's
block, so all layers read the same parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from flax import linen as nn

__all__ = ["SHARE_MODES", "SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

SHARE_MODES = ("all", "ffn", "attention")
LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's default (Flax's is 1e-6)


class FFN(nn.Module):
    d_model: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        x = nn.Dense(self.d_ff, name="fc1")(x)
        x = nn.gelu(x, approximate=False)  # torch.nn.GELU() is exact (erf); Flax defaults to tanh
        return nn.Dense(self.d_model, name="fc2")(x)


def attention(d_model: int, num_heads: int, name: str | None = None) -> nn.Module:
    # torch.nn.MultiheadAttention has in_proj and out_proj biases; so does this.
    return nn.MultiHeadDotProductAttention(
        num_heads=num_heads, qkv_features=d_model, out_features=d_model, use_bias=True, deterministic=True, name=name
    )


class TransformerBlock(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int
    # Pass a module here to share it with other blocks; None makes the block's own.
    shared_attention: nn.Module | None = None
    shared_ffn: nn.Module | None = None

    # The sub-layer builders, as class attributes so that a variant (or a mutant)
    # changes one piece by subclassing, and the models below pick it up.
    make_attention: ClassVar[Callable[..., nn.Module]] = staticmethod(attention)
    make_ffn: ClassVar[type[nn.Module]] = FFN
    layer_norm_eps: ClassVar[float] = LAYER_NORM_EPS

    def sublayers(self):
        attn = self.shared_attention
        if attn is None:
            attn = self.make_attention(self.d_model, self.num_heads, name="attention")
        ffn = self.shared_ffn
        if ffn is None:
            ffn = self.make_ffn(self.d_model, self.d_ff, name="ffn")
        return attn, ffn

    @nn.compact
    def __call__(self, x):
        attn, ffn = self.sublayers()
        x = nn.LayerNorm(epsilon=self.layer_norm_eps, name="norm1")(x + attn(x, x))
        return nn.LayerNorm(epsilon=self.layer_norm_eps, name="norm2")(x + ffn(x))


class UnsharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    block: ClassVar[type[TransformerBlock]] = TransformerBlock

    @nn.compact
    def __call__(self, x):
        for i in range(self.num_layers):
            x = self.block(self.d_model, self.num_heads, self.d_ff, name=f"layers_{i}")(x)
        return x


class SharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    share: str = "all"

    block: ClassVar[type[TransformerBlock]] = TransformerBlock

    def setup(self):
        if self.share not in SHARE_MODES:
            raise ValueError(f"share must be one of {SHARE_MODES}, got {self.share!r}")
        dims = (self.d_model, self.num_heads, self.d_ff)
        if self.share == "all":
            self.shared_block = self.block(*dims)
        elif self.share == "ffn":
            self.ffn = self.block.make_ffn(self.d_model, self.d_ff)
            self.layers = [self.block(*dims, shared_ffn=self.ffn) for _ in range(self.num_layers)]
        else:
            self.attention = self.block.make_attention(self.d_model, self.num_heads)
            self.layers = [self.block(*dims, shared_attention=self.attention) for _ in range(self.num_layers)]

    def __call__(self, x):
        if self.share == "all":
            for _ in range(self.num_layers):
                x = self.shared_block(x)
            return x
        for layer in self.layers:
            x = layer(x)
        return x


def with_block(block: type[TransformerBlock]) -> tuple[type[UnsharedTransformer], type[SharedTransformer]]:
    """The two models built from another block class (for variants and mutants)."""
    unshared = type("UnsharedTransformer", (UnsharedTransformer,), {"block": block, "__module__": block.__module__})
    shared = type("SharedTransformer", (SharedTransformer,), {"block": block, "__module__": block.__module__})
    return unshared, shared
