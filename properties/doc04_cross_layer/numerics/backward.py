"""Document 04's post-LN stack differentiated by hand, in NumPy float64: the gradient oracle.

Reverse mode written out step by step for the block of :mod:`.block` (attention with
biases and the query scaled by 1/sqrt(head_dim), exact-GELU FFN, two-pass LayerNorm with
PyTorch's eps): independent of Flax and of JAX's autodiff, which the implementation under
test relies on, and compiled never (the suite's Flax construction under ``jax.vjp`` cost one
XLA program per block size). ``tests/test_doc04_numerics.py`` checks it against ``jax.vjp``
of the construction in float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conformance.kit.oracles import f64

from ..params import BlockParams
from .nonlinearities import PYTORCH_LAYER_NORM_EPS, normal_cdf, normal_pdf


def _contract(spec: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # optimize=True hands the contraction to BLAS (tensordot); plain einsum loops in C, several times slower at
    # the thorough profile's 128 tokens x 3072.
    return np.einsum(spec, a, b, optimize=True)


@dataclass(frozen=True)
class _Norm:
    xhat: np.ndarray
    inv: np.ndarray  # 1 / sqrt(var + eps), per row


def _layer_norm(x: np.ndarray, scale: np.ndarray, bias: np.ndarray, eps: float) -> tuple[np.ndarray, _Norm]:
    c = x - x.mean(-1, keepdims=True)
    inv = 1.0 / np.sqrt((c * c).mean(-1, keepdims=True) + eps)
    xhat = c * inv
    return xhat * scale + bias, _Norm(xhat, inv)


def _layer_norm_back(dy: np.ndarray, n: _Norm, scale: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    dxhat = dy * scale
    dx = n.inv * (dxhat - dxhat.mean(-1, keepdims=True) - n.xhat * (dxhat * n.xhat).mean(-1, keepdims=True))
    return dx, ((dy * n.xhat).sum((0, 1)), dy.sum((0, 1)))


@dataclass(frozen=True)
class _Tape:
    """What one layer's backward pass needs from its forward pass."""

    x: np.ndarray
    q: np.ndarray  # scaled by 1/sqrt(head_dim)
    k: np.ndarray
    v: np.ndarray
    weights: np.ndarray
    mixed: np.ndarray
    norm1: _Norm
    h: np.ndarray
    f1: np.ndarray
    cdf: np.ndarray  # Phi(f1): GELU(f1) = f1 Phi(f1), computed once (erf runs element by element in Python)
    g: np.ndarray
    norm2: _Norm


def _forward(x: np.ndarray, p: BlockParams, eps: float) -> tuple[np.ndarray, _Tape]:
    project = lambda w: _contract("bsd,dhe->bshe", x, w[0]) + w[1]  # noqa: E731
    q, k, v = (project(w) for w in (p.query, p.key, p.value))
    q = q / math.sqrt(p.head_dim)
    s = _contract("bqhe,bkhe->bhqk", q, k)
    z = np.exp(s - s.max(-1, keepdims=True))
    weights = z / z.sum(-1, keepdims=True)
    mixed = _contract("bhqk,bkhe->bqhe", weights, v)
    attended = _contract("bqhe,hed->bqd", mixed, p.out[0]) + p.out[1]
    h, norm1 = _layer_norm(x + attended, *p.norm1, eps)
    f1 = h @ p.fc1[0] + p.fc1[1]
    cdf = normal_cdf(f1)
    g = f1 * cdf
    y, norm2 = _layer_norm(h + g @ p.fc2[0] + p.fc2[1], *p.norm2, eps)
    return y, _Tape(x, q, k, v, weights, mixed, norm1, h, f1, cdf, g, norm2)


def _backward(dy: np.ndarray, p: BlockParams, t: _Tape) -> tuple[np.ndarray, BlockParams]:
    dr2, norm2 = _layer_norm_back(dy, t.norm2, p.norm2[0])
    fc2 = (_contract("bsf,bsd->fd", t.g, dr2), dr2.sum((0, 1)))
    df1 = (dr2 @ p.fc2[0].T) * (t.cdf + t.f1 * normal_pdf(t.f1))
    fc1 = (_contract("bsd,bsf->df", t.h, df1), df1.sum((0, 1)))
    dr1, norm1 = _layer_norm_back(dr2 + df1 @ p.fc1[0].T, t.norm1, p.norm1[0])
    out = (_contract("bqhe,bqd->hed", t.mixed, dr1), dr1.sum((0, 1)))
    dmixed = _contract("bqd,hed->bqhe", dr1, p.out[0])
    dweights = _contract("bqhe,bkhe->bhqk", dmixed, t.v)
    dv = _contract("bhqk,bqhe->bkhe", t.weights, dmixed)
    ds = t.weights * (dweights - (dweights * t.weights).sum(-1, keepdims=True))
    dq = _contract("bhqk,bkhe->bqhe", ds, t.k) / math.sqrt(p.head_dim)
    dk = _contract("bhqk,bqhe->bkhe", ds, t.q)
    dx = dr1.copy()
    grads = {}
    for name, dz in (("query", dq), ("key", dk), ("value", dv)):
        kernel = getattr(p, name)[0]
        grads[name] = (_contract("bsd,bshe->dhe", t.x, dz), dz.sum((0, 1)))
        dx += _contract("bshe,dhe->bsd", dz, kernel)
    return dx, BlockParams(**grads, out=out, fc1=fc1, fc2=fc2, norm1=norm1, norm2=norm2)


def stack_gradients(
    layers: Sequence[BlockParams], x: object, cotangent: object, eps: float = PYTORCH_LAYER_NORM_EPS
) -> list[BlockParams]:
    """d(sum(out * cotangent))/d each layer's parameters, in float64, layers in running order."""
    layers = [BlockParams(**{f: tuple(f64(a) for a in pair) for f, pair in vars(p).items()}) for p in layers]
    y, tapes = f64(x), []
    for p in layers:
        y, tape = _forward(y, p, eps)
        tapes.append(tape)
    grads: list[BlockParams] = []
    dy = f64(cotangent)
    for p, tape in zip(reversed(layers), reversed(tapes)):
        dy, g = _backward(dy, p, tape)
        grads.append(g)
    return grads[::-1]


def summed(grads: Sequence[BlockParams]) -> BlockParams:
    """The layers' gradients added up: a block shared by every layer gets their sum."""
    return BlockParams(
        **{f: tuple(np.sum([getattr(g, f)[i] for g in grads], axis=0) for i in range(2)) for f in vars(grads[0])}
    )
