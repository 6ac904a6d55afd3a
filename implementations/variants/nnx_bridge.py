"""Document 04 written in Flax NNX and handed over as Linen modules through ``nnx.bridge.to_linen``.

A conforming variant: the blocks and stacks are ``nnx.Module``s, the layers of
a stack sit in an ``nnx.List`` (so the parameter tree has integer keys,
``layers/0/...``), and each export is a function that wraps the nnx class with
``nnx.bridge.to_linen``, which is what an NNX user passes to a Linen-based
tool. The maths is the document's: post-LN, exact GELU, LayerNorm eps 1e-5,
attention with biases. A shared sub-layer is one nnx object referenced from
every layer, which nnx stores once.
"""

from __future__ import annotations

import jax
from flax import nnx

SHARE_MODES = ("all", "ffn", "attention")
LAYER_NORM_EPS = 1e-5


class FFN(nnx.Module):
    def __init__(self, d_model: int, d_ff: int, *, rngs: nnx.Rngs):
        self.fc1 = nnx.Linear(d_model, d_ff, rngs=rngs)
        self.fc2 = nnx.Linear(d_ff, d_model, rngs=rngs)

    def __call__(self, x):
        return self.fc2(jax.nn.gelu(self.fc1(x), approximate=False))


def _attention(d_model: int, num_heads: int, rngs: nnx.Rngs) -> nnx.MultiHeadAttention:
    return nnx.MultiHeadAttention(num_heads, d_model, d_model, d_model, decode=False, rngs=rngs)


class Block(nnx.Module):
    def __init__(self, d_model: int, num_heads: int, d_ff: int, *, rngs: nnx.Rngs, attention=None, ffn=None):
        self.attention = attention if attention is not None else _attention(d_model, num_heads, rngs)
        self.ffn = ffn if ffn is not None else FFN(d_model, d_ff, rngs=rngs)
        self.norm1 = nnx.LayerNorm(d_model, epsilon=LAYER_NORM_EPS, rngs=rngs)
        self.norm2 = nnx.LayerNorm(d_model, epsilon=LAYER_NORM_EPS, rngs=rngs)

    def __call__(self, x):
        x = self.norm1(x + self.attention(x, x, deterministic=True))
        return self.norm2(x + self.ffn(x))


class Stack(nnx.Module):
    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, share: str | None, *,
                 rngs: nnx.Rngs):  # fmt: skip
        dims = (d_model, num_heads, d_ff)
        if share == "all":
            self.shared_block = Block(*dims, rngs=rngs)
            self.num_layers = num_layers
            return
        shared = {}
        if share == "ffn":
            shared["ffn"] = FFN(d_model, d_ff, rngs=rngs)
        elif share == "attention":
            shared["attention"] = _attention(d_model, num_heads, rngs)
        self.layers = nnx.List([Block(*dims, rngs=rngs, **shared) for _ in range(num_layers)])

    def __call__(self, x):
        if hasattr(self, "shared_block"):
            for _ in range(self.num_layers):
                x = self.shared_block(x)
            return x
        for layer in self.layers:
            x = layer(x)
        return x


def TransformerBlock(d_model, num_heads, d_ff):
    return nnx.bridge.to_linen(Block, d_model, num_heads, d_ff)


def UnsharedTransformer(num_layers, d_model, num_heads, d_ff):
    return nnx.bridge.to_linen(Stack, num_layers, d_model, num_heads, d_ff, None)


def SharedTransformer(num_layers, d_model, num_heads, d_ff, share="all"):
    if share not in SHARE_MODES:
        raise ValueError(f"share must be one of {SHARE_MODES}, got {share!r}")
    return nnx.bridge.to_linen(Stack, num_layers, d_model, num_heads, d_ff, share)
