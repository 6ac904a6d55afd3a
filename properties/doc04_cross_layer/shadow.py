"""Document 04's block computed in float32 with NumPy, in two contraction orders: how far float32 drifts.

The first-order worst-case bound (:mod:`.oracle`) compounds through post-LN
layers until it is larger than the outputs themselves, and then nothing can
fail. LayerNorm renormalises every layer, so the real float32 error does not
compound like that. This module measures it instead: the same computation in
float32 (with the matmul operands rounded as the run's precision rounds them),
once contracting in the natural order and once in reverse, against the float64
oracle. The tolerance is a stated multiple of that drift, per token row
(:func:`conformance.kit.drift.row_bound`).
"""

from __future__ import annotations

import math

import numpy as np

from conformance.kit import drift as drift_kit

from .layout import BlockParams

_erf32 = np.vectorize(math.erf, otypes=[np.float32])


def _mm(x: np.ndarray, w: np.ndarray, reverse: bool) -> np.ndarray:
    return drift_kit.matmul(x, w, 1 if reverse else 0)


def _dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, reverse: bool) -> np.ndarray:
    w = kernel.reshape(x.shape[-1], -1).astype(np.float32)
    return _mm(x, w, reverse) + bias.reshape(-1).astype(np.float32)


def _layer_norm(x: np.ndarray, scale: np.ndarray, bias: np.ndarray, eps: float, fast: bool) -> np.ndarray:
    """LayerNorm in float32; ``fast`` takes the variance as E[x^2] - E[x]^2 (Flax's default), else two-pass.

    On rows of tiny variance the two differ by far more than summation order does, and an
    implementation may use either: the reversed run uses Flax's, so the drift covers both.
    """
    mu = x.mean(-1, keepdims=True, dtype=np.float32)
    c = x - mu
    if fast:
        var = np.maximum((x * x).mean(-1, keepdims=True, dtype=np.float32) - mu * mu, np.float32(0))
    else:
        var = (c * c).mean(-1, keepdims=True, dtype=np.float32)
    return c / np.sqrt(var + np.float32(eps)) * scale.astype(np.float32) + bias.astype(np.float32)


def _block(x: np.ndarray, p: BlockParams, eps: float, approximate_gelu: bool, reverse: bool) -> np.ndarray:
    heads, hd = p.query[1].shape
    bsz, seq, d = x.shape

    def proj(w):
        return _dense(x, *w, reverse).reshape(bsz, seq, heads, hd)

    q, k, v = proj(p.query), proj(p.key), proj(p.value)
    q = q / np.float32(math.sqrt(hd))
    if reverse:  # the score and value contractions in the other order too
        q, k = q[..., ::-1], k[..., ::-1]
    s = np.einsum("bqhd,bkhd->bhqk", drift_kit.round_operand(q), drift_kit.round_operand(k), dtype=np.float32)
    if reverse:
        q, k = q[..., ::-1], k[..., ::-1]
    z = np.exp(s - s.max(-1, keepdims=True))
    pr = z / z.sum(-1, keepdims=True, dtype=np.float32)
    o = np.einsum("bhqk,bkhd->bqhd", drift_kit.round_operand(pr), drift_kit.round_operand(v), dtype=np.float32).reshape(
        bsz, seq, d
    )
    h = _layer_norm(x + _dense(o, *p.out, reverse), *p.norm1, eps, fast=reverse)
    f = _dense(h, *p.fc1, reverse)
    if approximate_gelu:
        g = np.float32(0.5) * f * (1 + np.tanh(np.float32(math.sqrt(2 / math.pi)) * (f + np.float32(0.044715) * f**3)))
    else:
        g = np.float32(0.5) * f * (1 + _erf32(f / np.float32(math.sqrt(2.0))))
    return _layer_norm(h + _dense(g, *p.fc2, reverse), *p.norm2, eps, fast=reverse)


def drift(
    x: np.ndarray, p: BlockParams, num_layers: int, expected: np.ndarray, eps: float, approximate_gelu: bool = False
) -> np.ndarray:
    """Per element, the larger distance of two float32 runs of the stack from the float64 ``expected``."""
    worst = np.zeros_like(expected)
    for reverse in (False, True):
        y = np.asarray(x, np.float32)
        for _ in range(num_layers):
            y = _block(y, p, eps, approximate_gelu, reverse)
        worst = np.maximum(worst, np.abs(y.astype(np.float64) - expected))
    return worst


def drift_bound(
    x: np.ndarray, p: BlockParams, num_layers: int, expected: np.ndarray, eps: float, approximate_gelu: bool = False
) -> np.ndarray:
    """DRIFT_MARGIN x (each token row's largest drift + 4 u |row|): the tolerance for a float32 run."""
    return drift_kit.row_bound(drift(x, p, num_layers, expected, eps, approximate_gelu), expected)
