"""Drift bounds: tolerances from how far float32 drifts from float64 on these very inputs, measured, not bounded.

A worst-case rounding bound (:mod:`conformance.kit.tolerances`) charges every
term of a dot product its full ``gamma_k |x||W|``; at widths in the hundreds,
and through a few layers, that allows a few percent of the output, which a
wrong model can hide under. Real float32 error is far smaller: rounding errors
are as often positive as negative. So the suite measures it. The same
computation runs in float32 NumPy under several contraction orders (natural,
reversed, two fixed permutations of the summed axis), with the matmul operands
rounded as the run's precision rounds them (:mod:`conformance.kit.precision`),
and is compared with float64. The tolerance is :data:`DRIFT_MARGIN` times each
output row's largest drift, plus ``4 u |row|`` for rows whose measured drift
happened to be small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from conformance.kit import precision

# Covers other summation orders (XLA's blocking and FMA), libm ulps, and rows whose drift in the
# measured orders happened to be small: a correct float32 implementation stays well inside it.
DRIFT_MARGIN = 16.0
ORDERS = 4


def round_operand(a: np.ndarray) -> np.ndarray:
    """``a`` in float32 with its mantissa rounded (to nearest even) to what the run's matmuls keep."""
    a = np.asarray(a, dtype=np.float32)
    bits = precision.current_precision().mantissa_bits
    if bits >= 23:
        return a
    drop = 23 - bits
    i = a.view(np.uint32).astype(np.uint64)
    half = (1 << (drop - 1)) - 1 + ((i >> drop) & 1)
    return (((i + half) >> drop) << drop).astype(np.uint32).view(np.float32)


def contraction_order(k: int, order: int) -> np.ndarray | slice:
    """Index of the summed axis for one of :data:`ORDERS` orders: natural, reversed, then fixed permutations."""
    if order == 0:
        return slice(None)
    if order == 1:
        return slice(None, None, -1)
    return np.random.default_rng([k, order]).permutation(k)


def matmul(x: np.ndarray, w: np.ndarray, order: int = 0) -> np.ndarray:
    """``x @ w`` in float32, operands rounded to the run's precision, summed in the given order."""
    idx = contraction_order(np.shape(w)[0], order)
    return np.matmul(round_operand(x)[..., idx], round_operand(w)[idx], dtype=np.float32)


def row_bound(drift: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """:data:`DRIFT_MARGIN` x (each row's largest drift + 4 u |row|), broadcast over the row."""
    row = drift.max(-1, keepdims=True) + 4 * precision.unit_roundoff() * np.abs(expected).max(-1, keepdims=True)
    return np.broadcast_to(DRIFT_MARGIN * row, expected.shape).copy()


def drift_bound(float32_run: Callable[[int], np.ndarray], expected: np.ndarray) -> np.ndarray:
    """:func:`row_bound` of the largest drift of ``float32_run(order)`` from ``expected`` over the orders.

    ``float32_run`` computes the same quantity as ``expected`` (float64) in float32, contracting
    with :func:`matmul` in the order it is given.
    """
    expected = np.asarray(expected, dtype=np.float64)
    drift = np.zeros_like(expected)
    # In place: at a 4096 x 4096 kernel gradient each temporary is 128 MB, and allocating them cost more than
    # the arithmetic. float32 to float64 is exact, so the subtraction is the same as converting first.
    gap = np.empty_like(expected)
    for order in range(ORDERS):
        np.subtract(float32_run(order), expected, out=gap)
        np.maximum(drift, np.abs(gap, out=gap), out=drift)
    return row_bound(drift, expected)


def dense_chain(
    x: object,
    layers: Sequence[tuple[object, object | None]],
    between: Callable[[np.ndarray], np.ndarray] = lambda z: np.maximum(z, 0),
) -> np.ndarray:
    """The drift bound for ``x W1 + b1 -> between -> ... -> x Wn + bn`` (last pre-activation).

    Kernels are (in, out) matrices, or stacks of them (..., in, out) applied member by member to ``x`` of
    shape (..., rows, in), as ``np.matmul`` broadcasts.

    A 1-Lipschitz activation after the last layer (relu) cannot enlarge the error, so the bound
    also holds for its output.
    """
    # A kernel used by several layers (document 01's shared Dense) is converted and permuted once: at
    # widths in the thousands each copy is tens of megabytes.
    converted: dict[tuple[int, str], np.ndarray] = {}

    def as_(kernel: object, kind: str, order: int = 0) -> np.ndarray:
        key = (id(kernel), f"{kind}{order}")
        if key not in converted:
            if kind == "f64":
                converted[key] = np.asarray(kernel, np.float64)
            else:
                rounded = round_operand(kernel)
                # The summed axis: the first of a 2-D kernel, the next-to-last of a stack of them.
                converted[key] = rounded[..., contraction_order(rounded.shape[-2], order), :]
        return converted[key]

    expected = np.asarray(x, dtype=np.float64)
    for i, (kernel, bias) in enumerate(layers):
        expected = expected @ as_(kernel, "f64") + (0.0 if bias is None else np.asarray(bias, np.float64))
        if i < len(layers) - 1:
            expected = between(expected)

    def run(order: int) -> np.ndarray:
        y = np.asarray(x, dtype=np.float32)
        for i, (kernel, bias) in enumerate(layers):
            w = as_(kernel, "f32", order)
            y = np.matmul(round_operand(y)[..., contraction_order(w.shape[-2], order)], w, dtype=np.float32)
            if bias is not None:
                y = y + np.asarray(bias, dtype=np.float32)
            if i < len(layers) - 1:
                y = between(y)
        return y

    return drift_bound(run, expected)


def shared_dense_backprop(x: object, kernel: object, bias: object) -> tuple[np.ndarray, ...]:
    """``sum(relu(relu(x K + b) K + b))`` backpropagated in float64: (x, the first relu's mask, h1 = relu(x K + b),
    g2 = d out / d z2, g1 = d out / d z1)."""
    x64, k64, b64 = (np.asarray(a, np.float64) for a in (x, kernel, bias))
    z1 = x64 @ k64 + b64
    mask1 = z1 > 0
    h1 = np.where(mask1, z1, 0.0)
    g2 = (h1 @ k64 + b64 > 0).astype(np.float64)
    return x64, mask1, h1, g2, (g2 @ k64.T) * mask1


def shared_dense_grads(x: object, kernel: object, bias: object) -> dict[str, np.ndarray]:
    """Measured bounds for the kernel and bias gradients of ``sum(relu(relu(x K + b) K + b))``.

    Backprop runs in float32 with relu's masks taken from float64: callers skip inputs near a
    kink, where the masks could differ and the gradient is not decidable anyway.
    """
    x64, mask1, h1, g2, g1 = shared_dense_backprop(x, kernel, bias)
    expected = {"kernel": x64.T @ g1 + h1.T @ g2, "bias": g1.sum(0) + g2.sum(0)}
    x32, k32, b32, g2_32 = (np.asarray(a, np.float32) for a in (x, kernel, bias, g2))

    def run(order: int) -> dict[str, np.ndarray]:
        h = np.where(mask1, matmul(x32, k32, order) + b32, np.float32(0))
        g = np.where(mask1, matmul(g2_32, k32.T, order), np.float32(0))
        # The summed axis of x^T g is the batch: transpose so that matmul permutes it.
        return {
            "kernel": matmul(x32.T, g, order) + matmul(h.T, g2_32, order),
            "bias": _sum_rows(g, order) + _sum_rows(g2_32, order),
        }

    runs = [run(order) for order in range(ORDERS)]
    return {name: drift_bound(lambda order: runs[order][name], expected[name]) for name in expected}  # noqa: B023 - called at once


def _sum_rows(a: np.ndarray, order: int) -> np.ndarray:
    """``a.sum(0)`` in float32, in the given order."""
    return np.sum(a[contraction_order(a.shape[0], order)], axis=0, dtype=np.float32)


def describe() -> str:
    return (
        f"{DRIFT_MARGIN:g} x (the row's largest |float32 - float64| over {ORDERS} NumPy contraction orders "
        f"+ 4u|row|), {precision.describe()}"
    )
