"""How far a float32 run of document 04's models drifts from float64: measured on the very inputs compared.

The first-order worst-case bound (:mod:`.exact`) compounds through post-LN
layers until it exceeds the outputs, and then nothing can fail. LayerNorm
renormalises every layer, so the real float32 error does not compound like
that; the suite measures it instead, as :mod:`conformance.kit.drift` does for
dense layers:

- outputs (:func:`output_drift_bound`): the block (:mod:`.block`) in float32
  NumPy, matmul operands rounded as the run's precision rounds them, once
  contracting in the natural order with two-pass LayerNorm variance, once in
  reverse with Flax's fast variance (E[x^2] - E[x]^2; on rows of tiny variance
  the two differ by far more than summation order does, and an implementation
  may use either);
- gradients (:func:`gradient_drift`): the suite's own Flax construction
  (:mod:`..constructions`) holding the implementation's block parameters,
  differentiated in float32, against the NumPy float64 backward pass
  (:mod:`.backward`). Its float32 run goes through the same ``lax.dot_general``
  as the implementation's, so ``--emulate-precision`` rounds its operands too,
  and on an accelerator it runs at the backend's matmul precision.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import numpy as np

from conformance.kit import drift as kit_drift
from conformance.kit.compiled import fast_jit
from conformance.kit.tolerances import unit_roundoff

from ..constructions import DocBlock, doc_block_params, doc_block_values
from ..params import BlockParams
from . import backward, block
from .nonlinearities import PYTORCH_LAYER_NORM_EPS

_erf32 = np.vectorize(math.erf, otypes=[np.float32])


@dataclass(frozen=True)
class Float32Arithmetic:
    """:class:`.block.Arithmetic` in float32, every sum contracted in one of
    :data:`conformance.kit.drift.ORDERS` orders (natural, reversed, two fixed permutations); the odd orders
    take LayerNorm's variance as E[x^2] - E[x]^2, as Flax does, the even ones in two passes."""

    order: int
    eps: float = PYTORCH_LAYER_NORM_EPS
    approximate_gelu: bool = False

    def dense(self, x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
        w = kernel.reshape(x.shape[-1], -1).astype(np.float32, copy=False)  # a 1024 x 4096 kernel: no copy
        return kit_drift.matmul(x, w, self.order) + bias.reshape(-1).astype(np.float32)

    def split_heads(self, x: np.ndarray, heads: int, head_dim: int) -> np.ndarray:
        return x.reshape(*x.shape[:-1], heads, head_dim)

    def merge_heads(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(*x.shape[:-2], -1)

    def divide(self, x: np.ndarray, divisor: float) -> np.ndarray:
        return x / np.float32(divisor)

    def scores(self, q: np.ndarray, k: np.ndarray) -> np.ndarray:
        idx = kit_drift.contraction_order(q.shape[-1], self.order)
        round_ = kit_drift.round_operand
        return np.einsum("bqhd,bkhd->bhqk", round_(q[..., idx]), round_(k[..., idx]), dtype=np.float32)

    def softmax(self, s: np.ndarray) -> np.ndarray:
        z = np.exp(s - s.max(-1, keepdims=True))
        return z / z.sum(-1, keepdims=True, dtype=np.float32)

    def mix(self, weights: np.ndarray, v: np.ndarray) -> np.ndarray:
        idx = kit_drift.contraction_order(v.shape[-3], self.order)
        round_ = kit_drift.round_operand
        return np.einsum("bhqk,bkhd->bqhd", round_(weights[..., idx]), round_(v[..., idx, :, :]), dtype=np.float32)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def layer_norm(self, x: np.ndarray, scale: np.ndarray, bias: np.ndarray) -> np.ndarray:
        mu = x.mean(-1, keepdims=True, dtype=np.float32)
        c = x - mu
        if self.order % 2:  # Flax's fast variance
            var = np.maximum((x * x).mean(-1, keepdims=True, dtype=np.float32) - mu * mu, np.float32(0))
        else:
            var = (c * c).mean(-1, keepdims=True, dtype=np.float32)
        return c / np.sqrt(var + np.float32(self.eps)) * scale.astype(np.float32) + bias.astype(np.float32)

    def gelu(self, f: np.ndarray) -> np.ndarray:
        if self.approximate_gelu:
            inner = np.float32(math.sqrt(2 / math.pi)) * (f + np.float32(0.044715) * f**3)
            return np.float32(0.5) * f * (1 + np.tanh(inner))
        return np.float32(0.5) * f * (1 + _erf32(f / np.float32(math.sqrt(2.0))))


def per_layer(p: BlockParams | Sequence[BlockParams], num_layers: int) -> list[BlockParams]:
    """Each layer's parameters: ``p`` in every layer, or ``p`` itself when it is already one per layer."""
    if isinstance(p, BlockParams):
        return [p] * num_layers
    if len(p) != num_layers:
        raise ValueError(f"{len(p)} layers of parameters for a stack of {num_layers}")
    return list(p)


def output_drift(
    x: np.ndarray, layers: Sequence[BlockParams], expected: np.ndarray, eps: float, approximate_gelu: bool = False
) -> np.ndarray:
    """Per element, the largest distance of the float32 runs of the stack (one per order) from the float64 ``expected``."""
    worst = np.zeros_like(expected)
    for order in range(kit_drift.ORDERS):
        arithmetic = Float32Arithmetic(order, eps, approximate_gelu)
        y = np.asarray(x, np.float32)
        for layer in layers:
            y = block.forward(y, layer, arithmetic)
        worst = np.maximum(worst, np.abs(y.astype(np.float64) - expected))
    return worst


def output_drift_bound(
    x: np.ndarray, layers: Sequence[BlockParams], expected: np.ndarray, eps: float, approximate_gelu: bool = False
) -> np.ndarray:
    """DRIFT_MARGIN x (each token row's largest drift + 4 u |row|): the tolerance for a float32 run."""
    return kit_drift.row_bound(output_drift(x, layers, expected, eps, approximate_gelu), expected)


# --- gradients ---------------------------------------------------------------------------------


@functools.cache
def _gradients_fn(dims: tuple[int, int, int]):
    """The construction's float32 gradients: the shared model holding ``block``, the unshared one holding
    ``layers`` (each leaf stacked over layers on a leading axis).

    Both run the construction's block under ``lax.scan``, so one program per block size serves every depth,
    and compiling it costs the same at 24 layers as at 1. The shared block is scanned as a constant, so its
    gradient is accumulated over the layers in float32 inside the program, as a shared model's is.
    """
    model = DocBlock(*dims)

    def apply(params, y):
        return model.apply({"params": params}, y)

    def grads(block, layers, x, cotangent):
        depth = jax.tree_util.tree_leaves(layers)[0].shape[0]

        def shared(p):
            return jax.lax.scan(lambda y, _: (apply(p, y), None), x, None, length=depth)[0]

        def unshared(ps):
            return jax.lax.scan(lambda y, p: (apply(p, y), None), x, ps)[0]

        pull = lambda f, p: jax.vjp(f, p)[1](cotangent)[0]  # noqa: E731
        return pull(shared, block), pull(unshared, layers)

    return fast_jit(grads)


def _stacked(trees: Sequence[dict]) -> dict:
    return jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *trees)


def _unstacked(tree: dict, depth: int) -> list[dict]:
    # To NumPy first: indexing a jax.Array compiles a slice and a squeeze per shape.
    leaves, treedef = jax.tree_util.tree_flatten(jax.tree_util.tree_map(np.asarray, tree))
    return [jax.tree_util.tree_unflatten(treedef, [leaf[i] for leaf in leaves]) for i in range(depth)]


def _float32_gradients(dims: tuple[int, int, int], layers: Sequence[BlockParams], x, r) -> tuple[BlockParams, list]:
    """The construction's float32 gradients with ``layers`` (each layer's own params, in running order): the
    shared model's (holding the first layer's), and each layer's of the unshared model."""
    params = [doc_block_params(v) for v in layers]
    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    shared, per_layer = _gradients_fn(tuple(int(v) for v in dims))(params[0], _stacked(params), f32(x), f32(r))
    return doc_block_values(shared), [doc_block_values(g) for g in _unstacked(per_layer, len(layers))]


def construction_gradients(num_layers: int, dims: tuple[int, int, int], values: BlockParams, x, r):
    """The construction's float32 d(sum(out * r))/d params with ``values`` in every layer, as float64
    BlockParams: the shared model's, and the unshared model's per-layer gradients summed in float64."""
    shared, per_layer = _float32_gradients(dims, [values] * num_layers, x, r)
    return shared, backward.summed(per_layer)


def _largest_gap(a: BlockParams, b: BlockParams) -> float:
    return max(float(np.abs(p - q).max(initial=0.0)) for p, q in zip(a.arrays(), b.arrays()))


@dataclass(frozen=True)
class GradientDrift:
    """The construction's float32 gradient drift: for each gradient compared, the largest |g32 - g64| over
    all its leaves.

    Normwise, because a leaf's rounding is not bounded by its own size: the key
    bias's gradient is exactly 0 in exact arithmetic (softmax ignores it) and
    pure rounding in float32.
    """

    parts: tuple[tuple[str, float], ...]

    @property
    def total(self) -> float:
        """The drifts added up."""
        return sum(v for _, v in self.parts)

    def bound(self, magnitude: float) -> float:
        """DRIFT_MARGIN x (the drifts) + 4 u G: the normwise tolerance for a difference of these gradients."""
        return kit_drift.DRIFT_MARGIN * self.total + 4 * unit_roundoff(np.float32) * magnitude

    def describe(self, magnitude: float) -> str:
        drifts = " + ".join(f"of the {name} {value:.3g}" for name, value in self.parts)
        return (
            f"{kit_drift.DRIFT_MARGIN:g} x (float32 drift {drifts}) + 4u x G {magnitude:.3g} = "
            f"{self.bound(magnitude):.3g}, drift = largest |float32 - float64| over the leaves, float32 from the "
            f"suite's Flax construction holding the same block params, float64 from the NumPy backward pass"
        )


def gradient_drift(num_layers: int, dims: tuple[int, int, int], values: BlockParams, x, r) -> GradientDrift:
    """The construction's float32 gradient drift for block params ``values``, input ``x`` and cotangent ``r``,
    from the NumPy float64 gradient (:mod:`.backward`)."""
    shared, total = construction_gradients(num_layers, dims, values, x, r)
    exact = backward.summed(backward.stack_gradients([values] * num_layers, x, r))
    return GradientDrift(
        (("shared gradient", _largest_gap(shared, exact)), ("unshared per-layer sum", _largest_gap(total, exact)))
    )


def stack_gradients(
    dims: tuple[int, int, int], layers: Sequence[BlockParams], x, r
) -> tuple[list[BlockParams], GradientDrift]:
    """d(sum(out * r))/d each layer's parameters, layers in running order, from the NumPy backward pass in
    float64 (the oracle, :mod:`.backward`), and how far the suite's Flax construction drifts from it in float32."""
    exact = backward.stack_gradients(layers, x, r)
    _, rounded = _float32_gradients(dims, layers, x, r)
    gap = max(_largest_gap(a, b) for a, b in zip(exact, rounded))
    return exact, GradientDrift((("per-layer gradients", gap),))
