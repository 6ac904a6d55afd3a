"""Document 04's post-LN block, written once, over an arithmetic that says how each step is computed.

The block is the document's (PyTorch) code::

    h = LN1(x + MHA(x, x, x));  out = LN2(h + FFN(h)),  FFN = Linear -> GELU -> Linear

with PyTorch's defaults, which that code relies on: exact (erf) GELU,
LayerNorm eps 1e-5, attention projections with biases, the query scaled by
1/sqrt(head_dim) before the dot product.

:func:`forward` composes the steps; an :class:`Arithmetic` computes them. The
suite needs the same block in two arithmetics: float64 carrying a first-order
bound on a float32 run's error (:mod:`.exact`, the oracle) and float32 in a
chosen contraction order (:mod:`.drift`, how far a real float32 run strays).
Writing the composition once keeps the two from describing different blocks.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from ..params import BlockParams


class Arithmetic(Protocol):
    """The steps of the block. Values are whatever the arithmetic carries (arrays, or arrays with bounds)."""

    def dense(self, x: Any, kernel: Any, bias: Any) -> Any:
        """``x @ kernel + bias`` over the last axis of x (the kernel read as an (in, out) matrix)."""

    def split_heads(self, x: Any, heads: int, head_dim: int) -> Any:
        """(B, S, H*hd) -> (B, S, H, hd)."""

    def merge_heads(self, x: Any) -> Any:
        """(B, S, H, hd) -> (B, S, H*hd)."""

    def divide(self, x: Any, divisor: float) -> Any: ...

    def scores(self, q: Any, k: Any) -> Any:
        """(B, S, H, hd) x (B, S, H, hd) -> (B, H, S, S): every query row against every key row."""

    def softmax(self, s: Any) -> Any:
        """Over the last (key) axis."""

    def mix(self, weights: Any, v: Any) -> Any:
        """(B, H, S, S) x (B, S, H, hd) -> (B, S, H, hd): attention weights applied to the values."""

    def add(self, a: Any, b: Any) -> Any: ...

    def layer_norm(self, x: Any, scale: Any, bias: Any) -> Any: ...

    def gelu(self, x: Any) -> Any: ...


def attention(x: Any, p: BlockParams, a: Arithmetic) -> Any:
    """Multi-head self-attention over the sequence axis of x: (B, S, d)."""
    heads, hd = p.heads, p.head_dim
    q, k, v = (a.split_heads(a.dense(x, *w), heads, hd) for w in (p.query, p.key, p.value))
    weights = a.softmax(a.scores(a.divide(q, math.sqrt(hd)), k))
    return a.dense(a.merge_heads(a.mix(weights, v)), *p.out)


def forward(x: Any, p: BlockParams, a: Arithmetic) -> Any:
    """One block on x: (B, S, d)."""
    h = a.layer_norm(a.add(x, attention(x, p, a)), *p.norm1)
    ffn = a.dense(a.gelu(a.dense(h, *p.fc1)), *p.fc2)
    return a.layer_norm(a.add(h, ffn), *p.norm2)
