"""Document 04 laid out another way: a conforming variant with none of Flax's attention layout.

- Four separate (d, d) ``nn.Dense`` projections named ``to_q``, ``to_k``,
  ``to_v`` and ``proj``; the heads are split by hand (column h*hd + j is
  feature j of head h, as torch.nn.MultiheadAttention and Flax do).
- LN1 lives inside the attention sub-layer module (``mixer/norm``), as in
  Hugging Face's ALBERT; LN2 is ``out_norm``; the FFN is ``mlp/{up,down}``.
- ``TransformerBlock`` wraps the block in one more module level (``inner``).
- ``share="attention"`` shares the projections (``mixer/heads``) and keeps a
  LayerNorm per layer; ``"ffn"`` shares ``mlp``; ``"all"`` the whole block.

The maths is the document's: post-LN, exact GELU, eps 1e-5, biases everywhere.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

__all__ = ["SHARE_MODES", "SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

SHARE_MODES = ("all", "ffn", "attention")
EPS = 1e-5


class Heads(nn.Module):
    """softmax(q k^T / sqrt(hd)) v over heads, with (d, d) projections in and out."""

    d_model: int
    num_heads: int

    def setup(self):
        self.to_q, self.to_k, self.to_v = (nn.Dense(self.d_model) for _ in range(3))
        self.proj = nn.Dense(self.d_model)

    def __call__(self, x):
        b, s, d = x.shape
        hd = d // self.num_heads
        q, k, v = (f(x).reshape(b, s, self.num_heads, hd) for f in (self.to_q, self.to_k, self.to_v))
        scores = jnp.einsum("bqhd,bkhd->bhqk", q / jnp.sqrt(hd).astype(x.dtype), k)
        mixed = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(scores, axis=-1), v)
        return self.proj(mixed.reshape(b, s, d))


class Mixer(nn.Module):
    """The attention sub-layer with its LayerNorm: LN1(x + attention(x))."""

    d_model: int
    num_heads: int
    heads: nn.Module | None = None  # shared projections, or None for the sub-layer's own

    def setup(self):
        self.attend = self.heads if self.heads is not None else Heads(self.d_model, self.num_heads)
        self.norm = nn.LayerNorm(epsilon=EPS)

    def __call__(self, x):
        return self.norm(x + self.attend(x))


class MLP(nn.Module):
    d_model: int
    d_ff: int

    def setup(self):
        self.up, self.down = nn.Dense(self.d_ff), nn.Dense(self.d_model)

    def __call__(self, x):
        return self.down(nn.gelu(self.up(x), approximate=False))


class Core(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int
    heads: nn.Module | None = None
    mlp: nn.Module | None = None

    def setup(self):
        self.mixer = Mixer(self.d_model, self.num_heads, self.heads)
        self.ffn = self.mlp if self.mlp is not None else MLP(self.d_model, self.d_ff)
        self.out_norm = nn.LayerNorm(epsilon=EPS)

    def __call__(self, x):
        h = self.mixer(x)
        return self.out_norm(h + self.ffn(h))


class TransformerBlock(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int
    heads: nn.Module | None = None
    mlp: nn.Module | None = None

    def setup(self):
        self.inner = Core(self.d_model, self.num_heads, self.d_ff, self.heads, self.mlp)

    def __call__(self, x):
        return self.inner(x)


class UnsharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    def setup(self):
        self.stack = [TransformerBlock(self.d_model, self.num_heads, self.d_ff) for _ in range(self.num_layers)]

    def __call__(self, x):
        for block in self.stack:
            x = block(x)
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
            self.stack = [TransformerBlock(*dims)]
        elif self.share == "ffn":
            self.common = MLP(self.d_model, self.d_ff)
            self.stack = [TransformerBlock(*dims, mlp=self.common) for _ in range(self.num_layers)]
        else:
            self.common = Heads(self.d_model, self.num_heads)
            self.stack = [TransformerBlock(*dims, heads=self.common) for _ in range(self.num_layers)]

    def __call__(self, x):
        blocks = self.stack * self.num_layers if self.share == "all" else self.stack
        for block in blocks:
            x = block(x)
        return x
