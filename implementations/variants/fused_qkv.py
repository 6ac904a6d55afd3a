"""Document 04 with one fused (d, 3d) QKV projection: a conforming variant.

Names and nesting are unlike Flax's and Hugging Face's::

    mixer/{qkv (d, 3d), proj (d, d)}, post_mixer_norm, up (d, d_ff), down (d_ff, d), out_norm

The 3d output columns are [q | k | v], each head-major (column h*hd + j of a
third is feature j of head h), as in GPT-2's ``c_attn``. Modules are declared
inline (``@nn.compact``); a shared sub-layer is created once by the model and
handed to every layer. The maths is the document's: post-LN, exact GELU,
eps 1e-5, biases everywhere.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

__all__ = ["SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

MODES = ("all", "ffn", "attention")
EPS = 1e-5


class FusedAttention(nn.Module):
    d_model: int
    num_heads: int

    @nn.compact
    def __call__(self, x):
        b, s, d = x.shape
        hd = d // self.num_heads
        q, k, v = (t.reshape(b, s, self.num_heads, hd) for t in jnp.split(nn.Dense(3 * d, name="qkv")(x), 3, axis=-1))
        scores = jnp.einsum("bqhd,bkhd->bhqk", q / jnp.sqrt(hd).astype(x.dtype), k)
        mixed = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores, axis=-1), v).reshape(b, s, d)
        return nn.Dense(d, name="proj")(mixed)


class Feedforward(nn.Module):
    d_model: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        return nn.Dense(self.d_model, name="down")(nn.gelu(nn.Dense(self.d_ff, name="up")(x), approximate=False))


class TransformerBlock(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int
    mixer: nn.Module | None = None
    feedforward: nn.Module | None = None

    @nn.compact
    def __call__(self, x):
        mixer = self.mixer if self.mixer is not None else FusedAttention(self.d_model, self.num_heads, name="mixer")
        feedforward = (
            self.feedforward if self.feedforward is not None else Feedforward(self.d_model, self.d_ff, name="ff")
        )
        h = nn.LayerNorm(epsilon=EPS, name="post_mixer_norm")(x + mixer(x))
        return nn.LayerNorm(epsilon=EPS, name="out_norm")(h + feedforward(h))


class UnsharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    @nn.compact
    def __call__(self, x):
        for i in range(self.num_layers):
            x = TransformerBlock(self.d_model, self.num_heads, self.d_ff, name=f"block{i}")(x)
        return x


class SharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    share: str = "all"

    def setup(self):
        if self.share not in MODES:
            raise ValueError(f"share must be one of {MODES}, got {self.share!r}")
        dims = (self.d_model, self.num_heads, self.d_ff)
        if self.share == "all":
            self.block = TransformerBlock(*dims)
        elif self.share == "ffn":
            self.common = Feedforward(self.d_model, self.d_ff)
            self.blocks = [TransformerBlock(*dims, feedforward=self.common) for _ in range(self.num_layers)]
        else:
            self.common = FusedAttention(self.d_model, self.num_heads)
            self.blocks = [TransformerBlock(*dims, mixer=self.common) for _ in range(self.num_layers)]

    def __call__(self, x):
        for i in range(self.num_layers):
            x = self.block(x) if self.share == "all" else self.blocks[i](x)
        return x
