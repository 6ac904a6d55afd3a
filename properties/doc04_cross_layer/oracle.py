"""Document 04: the post-LN Transformer block in NumPy float64, with a rounding bound.

The block is the document's (PyTorch) code::

    x = LN1(x + MHA(x, x, x));  x = LN2(x + FFN(x)),  FFN = Linear -> GELU -> Linear

with PyTorch's defaults, which the document's code relies on: exact (erf) GELU
and LayerNorm eps 1e-5; attention projections with biases.

Parameters come in the suite's own layout, :class:`layout.BlockParams`; the
query is scaled by 1/sqrt(hd) before the dot product, as in Flax and PyTorch.

Every oracle step also propagates a first-order elementwise bound on the error
of a float32 computation of the same step (Higham-style: a length-k dot product
contributes gamma_k |x||W|, each rounding u|result|, an input error passes
through with the step's derivative). :data:`conformance.tolerances.MARGIN`
covers second-order terms and library ulps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.kit import drift, precision
from conformance.kit.oracles import f64
from conformance.kit.tolerances import MARGIN, Tolerance, dot_gamma, gamma, unit_roundoff

from . import shadow
from .layout import BlockParams
from .nonlinearities import GELU_LIPSCHITZ, PYTORCH_LAYER_NORM_EPS, gelu_exact, gelu_tanh

u = unit_roundoff(np.float32)


def _dense(x: np.ndarray, ex: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x @ W + b over the last axis of x; W may be (in, ...), flattened here."""
    w = kernel.reshape(x.shape[-1], -1)
    b = bias.reshape(-1)
    prod = np.abs(x) @ np.abs(w)
    y = x @ w + b
    e = dot_gamma(x.shape[-1]) * prod + ex @ np.abs(w) + u * (prod + np.abs(b))
    return y, e


def _layer_norm(
    x: np.ndarray, ex: np.ndarray, scale: np.ndarray, bias: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    d = x.shape[-1]
    mu = x.mean(-1, keepdims=True)
    c = x - mu
    var = (c * c).mean(-1, keepdims=True)
    r = 1.0 / np.sqrt(var + eps)
    y = c * r * scale + bias
    # Errors, first order; the variance bound covers E[x^2]-E[x]^2 (Flax) and two-pass.
    ax = np.abs(x)
    e_mu = ex.mean(-1, keepdims=True) + (gamma(d) + u) * ax.mean(-1, keepdims=True)
    e2 = (x * x).mean(-1, keepdims=True)
    e_var = (
        2 * (ax * ex).mean(-1, keepdims=True) + (gamma(d) + 2 * u) * e2 + 2 * np.abs(mu) * e_mu + u * (mu * mu + var)
    )
    e_c = ex + e_mu + u * np.abs(c)
    rel_r = (e_var + u * (var + eps)) / (2 * (var + eps)) + 4 * u
    e_y = np.abs(scale) * (e_c * r + np.abs(c) * r * rel_r) + 3 * u * (np.abs(c * r * scale) + np.abs(bias))
    return y, e_y


def _gelu(h: np.ndarray, eh: np.ndarray, approximate: bool) -> tuple[np.ndarray, np.ndarray]:
    a = gelu_tanh(h) if approximate else gelu_exact(h)
    return a, GELU_LIPSCHITZ * eh + 8 * u * (np.abs(a) + np.abs(h))


def _attention(x: np.ndarray, ex: np.ndarray, p: BlockParams) -> tuple[np.ndarray, np.ndarray]:
    """Self-attention over the sequence axis of x: (B, S, d)."""
    heads, hd = p.query[1].shape
    bsz, seq, _ = x.shape

    def proj(w: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        y, e = _dense(x, ex, *w)
        return y.reshape(bsz, seq, heads, hd), e.reshape(bsz, seq, heads, hd)

    (q, eq), (k, ek), (v, ev) = proj(p.query), proj(p.key), proj(p.value)
    q, eq = q / math.sqrt(hd), eq / math.sqrt(hd) + 2 * u * np.abs(q) / math.sqrt(hd)
    s = np.einsum("bqhd,bkhd->bhqk", q, k)
    abs_s = np.einsum("bqhd,bkhd->bhqk", np.abs(q), np.abs(k))
    es = (
        dot_gamma(hd) * abs_s
        + np.einsum("bqhd,bkhd->bhqk", eq, np.abs(k))
        + np.einsum("bqhd,bkhd->bhqk", np.abs(q), ek)
    )
    m = s.max(-1, keepdims=True)
    z = np.exp(s - m)
    pr = z / z.sum(-1, keepdims=True)
    # dp_i = p_i (ds_i - sum_j p_j ds_j); rounding: subtract, exp, sum (gamma_S), divide.
    rnd = u * np.abs(s - m) + 3 * u
    ep = pr * (es + (pr * es).sum(-1, keepdims=True)) + pr * (rnd + (pr * rnd).sum(-1, keepdims=True) + gamma(seq) + u)
    o = np.einsum("bhqk,bkhd->bqhd", pr, v)
    eo = (
        dot_gamma(seq) * np.einsum("bhqk,bkhd->bqhd", pr, np.abs(v))
        + np.einsum("bhqk,bkhd->bqhd", ep, np.abs(v))
        + np.einsum("bhqk,bkhd->bqhd", pr, ev)
    )
    o2, eo2 = o.reshape(bsz, seq, heads * hd), eo.reshape(bsz, seq, heads * hd)
    return _dense(o2, eo2, *p.out)


def block_with_bound(
    x: Any, p: BlockParams, ex: Any = None, eps: float = PYTORCH_LAYER_NORM_EPS, approximate_gelu: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(output, first-order float32 error bound without margin) of one block on x: (B, S, d).

    ``eps`` and ``approximate_gelu`` exist to show what Flax's defaults would give.
    """
    x = f64(x)
    ex = np.zeros_like(x) if ex is None else f64(ex)
    a, ea = _attention(x, ex, p)
    r1 = x + a
    h, eh = _layer_norm(r1, ex + ea + u * np.abs(r1), *p.norm1, eps)
    f1, ef1 = _dense(h, eh, *p.fc1)
    g, eg = _gelu(f1, ef1, approximate_gelu)
    f2, ef2 = _dense(g, eg, *p.fc2)
    r2 = h + f2
    return _layer_norm(r2, eh + ef2 + u * np.abs(r2), *p.norm2, eps)


def block(x: Any, p: BlockParams, eps: float = PYTORCH_LAYER_NORM_EPS) -> np.ndarray:
    return block_with_bound(x, p, eps=eps)[0]


def stack(
    x: Any, p: BlockParams, num_layers: int, eps: float = PYTORCH_LAYER_NORM_EPS, approximate_gelu: bool = False
) -> tuple[np.ndarray, Tolerance]:
    """The block applied ``num_layers`` times, and the tolerance for a float32 run of it.

    The tolerance is the smaller, elementwise, of the first-order worst-case bound (sound, but
    it compounds through the layers until it exceeds the outputs) and 16 x the float32 drift
    measured on this very input (:mod:`.shadow`).
    """
    y, e = f64(x), np.zeros(np.shape(x))
    for _ in range(num_layers):
        y, e = block_with_bound(y, p, e, eps, approximate_gelu)
    measured = shadow.drift_bound(x, p, num_layers, y, eps, approximate_gelu)
    how = (
        f"|actual-expected| <= min({MARGIN:g} x first-order float32 bound propagated through "
        f"{num_layers} post-LN block(s) [gamma_k|x||W| per projection, softmax, exact-GELU "
        f"(Lipschitz {GELU_LIPSCHITZ}) and LayerNorm (eps {eps:g}) terms], {drift.DRIFT_MARGIN:g} x "
        f"(the token row's largest drift of two float32 NumPy runs of the same blocks, contracting in "
        f"opposite orders, from the float64 oracle + 4u|row|)); u=2^-24, {precision.describe()}"
    )
    return y, Tolerance(bound=np.minimum(MARGIN * e, measured), derivation=how)


@dataclass(frozen=True)
class Expectation:
    """The oracle's output for one reading of the parameters, and its tolerance."""

    params: BlockParams
    expected: np.ndarray
    tolerance: Tolerance


def closest_layout(
    x: Any, actual: Any, layouts: list[BlockParams], num_layers: int = 1, eps: float = PYTORCH_LAYER_NORM_EPS
) -> Expectation:
    """Of the candidate layouts, the one whose oracle output is nearest ``actual``."""
    best: tuple[float, Expectation] | None = None
    for p in layouts:
        y, tol = stack(x, p, num_layers, eps)
        score = float(np.max(np.abs(f64(actual) - y) - tol.bound, initial=-np.inf))
        if best is None or score < best[0]:
            best = (score, Expectation(p, y, tol))
    assert best is not None
    return best[1]


def layer_norm(x: Any, eps: float) -> tuple[np.ndarray, Tolerance]:
    """LayerNorm over the last axis with scale 1 and bias 0, and the tolerance for float32."""
    x = f64(x)
    d = x.shape[-1]
    y, e = _layer_norm(x, np.zeros_like(x), np.ones(d), np.zeros(d), eps)
    return y, Tolerance(
        bound=MARGIN * e,
        derivation=f"{MARGIN:g} x first-order float32 LayerNorm bound (mean, variance, rsqrt; eps {eps:g}), u=2^-24",
    )
