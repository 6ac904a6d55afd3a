"""The block in float64, each value carrying a first-order bound on a float32 run's error.

Higham-style, elementwise: a length-k dot product contributes ``gamma_k |x||W|``,
each rounding ``u |result|``, and an error already in an input passes through
with the step's derivative. :data:`conformance.kit.tolerances.MARGIN` covers
second-order terms and library ulps. The bound is sound but compounds through
post-LN layers; :mod:`.oracles` takes the smaller of it and the drift bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.kit.oracles import f64
from conformance.kit.tolerances import dot_gamma, gamma, unit_roundoff

from .nonlinearities import GELU_LIPSCHITZ, PYTORCH_LAYER_NORM_EPS, gelu_exact, gelu_tanh

u = unit_roundoff(np.float32)


@dataclass(frozen=True)
class Bounded:
    """A float64 value and the elementwise bound on how far a float32 computation of it may be."""

    value: np.ndarray
    error: np.ndarray

    @staticmethod
    def exact(x: object) -> Bounded:
        x = f64(x)
        return Bounded(x, np.zeros_like(x))

    def reshape(self, *shape: int) -> Bounded:
        return Bounded(self.value.reshape(*shape), self.error.reshape(*shape))


@dataclass(frozen=True)
class BoundedArithmetic:
    """:class:`.block.Arithmetic` in float64 with first-order float32 error bounds."""

    eps: float = PYTORCH_LAYER_NORM_EPS
    approximate_gelu: bool = False

    def dense(self, x: Bounded, kernel: np.ndarray, bias: np.ndarray) -> Bounded:
        w = kernel.reshape(x.value.shape[-1], -1)
        b = bias.reshape(-1)
        prod = np.abs(x.value) @ np.abs(w)
        error = dot_gamma(x.value.shape[-1]) * prod + x.error @ np.abs(w) + u * (prod + np.abs(b))
        return Bounded(x.value @ w + b, error)

    def split_heads(self, x: Bounded, heads: int, head_dim: int) -> Bounded:
        return x.reshape(*x.value.shape[:-1], heads, head_dim)

    def merge_heads(self, x: Bounded) -> Bounded:
        return x.reshape(*x.value.shape[:-2], -1)

    def divide(self, x: Bounded, divisor: float) -> Bounded:
        return Bounded(x.value / divisor, x.error / divisor + 2 * u * np.abs(x.value) / divisor)

    def scores(self, q: Bounded, k: Bounded) -> Bounded:
        spec = "bqhd,bkhd->bhqk"
        magnitude = np.einsum(spec, np.abs(q.value), np.abs(k.value))
        error = (
            dot_gamma(q.value.shape[-1]) * magnitude
            + np.einsum(spec, q.error, np.abs(k.value))
            + np.einsum(spec, np.abs(q.value), k.error)
        )
        return Bounded(np.einsum(spec, q.value, k.value), error)

    def softmax(self, s: Bounded) -> Bounded:
        shifted = s.value - s.value.max(-1, keepdims=True)
        z = np.exp(shifted)
        p = z / z.sum(-1, keepdims=True)
        # dp_i = p_i (ds_i - sum_j p_j ds_j); rounding: subtract, exp, sum (gamma_S), divide.
        rounding = u * np.abs(shifted) + 3 * u
        error = p * (s.error + (p * s.error).sum(-1, keepdims=True)) + p * (
            rounding + (p * rounding).sum(-1, keepdims=True) + gamma(s.value.shape[-1]) + u
        )
        return Bounded(p, error)

    def mix(self, weights: Bounded, v: Bounded) -> Bounded:
        spec = "bhqk,bkhd->bqhd"
        seq = weights.value.shape[-1]
        error = (
            dot_gamma(seq) * np.einsum(spec, weights.value, np.abs(v.value))
            + np.einsum(spec, weights.error, np.abs(v.value))
            + np.einsum(spec, weights.value, v.error)
        )
        return Bounded(np.einsum(spec, weights.value, v.value), error)

    def add(self, a: Bounded, b: Bounded) -> Bounded:
        total = a.value + b.value
        return Bounded(total, a.error + b.error + u * np.abs(total))

    def layer_norm(self, x: Bounded, scale: np.ndarray, bias: np.ndarray) -> Bounded:
        v, ex, eps = x.value, x.error, self.eps
        d = v.shape[-1]
        mu = v.mean(-1, keepdims=True)
        c = v - mu
        var = (c * c).mean(-1, keepdims=True)
        r = 1.0 / np.sqrt(var + eps)
        y = c * r * scale + bias
        # First order; the variance bound covers E[x^2]-E[x]^2 (Flax) and two-pass alike.
        av = np.abs(v)
        e_mu = ex.mean(-1, keepdims=True) + (gamma(d) + u) * av.mean(-1, keepdims=True)
        e2 = (v * v).mean(-1, keepdims=True)
        e_var = (
            2 * (av * ex).mean(-1, keepdims=True)
            + (gamma(d) + 2 * u) * e2
            + 2 * np.abs(mu) * e_mu
            + u * (mu * mu + var)
        )
        e_c = ex + e_mu + u * np.abs(c)
        rel_r = (e_var + u * (var + eps)) / (2 * (var + eps)) + 4 * u
        e_y = np.abs(scale) * (e_c * r + np.abs(c) * r * rel_r) + 3 * u * (np.abs(c * r * scale) + np.abs(bias))
        return Bounded(y, e_y)

    def gelu(self, x: Bounded) -> Bounded:
        a = gelu_tanh(x.value) if self.approximate_gelu else gelu_exact(x.value)
        return Bounded(a, GELU_LIPSCHITZ * x.error + 8 * u * (np.abs(a) + np.abs(x.value)))
