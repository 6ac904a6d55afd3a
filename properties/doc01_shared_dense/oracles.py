"""Document 01 in NumPy float64: two calls through one (kernel, bias), relu after each."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conformance.kit import tolerances
from conformance.kit.oracles import dense, f64, relu

# Draws tried before an input is given up as too close to relu's kink.
KINK_TRIES = 8


def shared_dense(x: object, kernel: object, bias: object) -> np.ndarray:
    """relu(relu(x K + b) K + b), both calls through one (K, b)."""
    return relu(dense(relu(dense(x, kernel, bias)), kernel, bias))


def shared_dense_grads(x: object, kernel: object, bias: object) -> dict[str, np.ndarray]:
    """Gradients of sum(shared_dense(x)) w.r.t. K, split by call site.

    Returns ``kernel_site1``, ``kernel_site2`` and their sum ``kernel``, and the
    same for ``bias``. Relu's derivative at 0 is taken as 0, as JAX does.
    """
    x, k, b = f64(x), f64(kernel), f64(bias)
    z1 = x @ k + b
    h1 = relu(z1)
    z2 = h1 @ k + b
    g2 = (z2 > 0).astype(np.float64)  # dL/dz2 for L = sum(relu(z2))
    g1 = (g2 @ k.T) * (z1 > 0)  # dL/dz1
    site1_k, site2_k = x.T @ g1, h1.T @ g2
    site1_b, site2_b = g1.sum(0), g2.sum(0)
    return {
        "kernel_site1": site1_k,
        "kernel_site2": site2_k,
        "kernel": site1_k + site2_k,
        "bias_site1": site1_b,
        "bias_site2": site2_b,
        "bias": site1_b + site2_b,
    }


def near_relu_kink(x: object, kernel: object, bias: object, bound: np.ndarray) -> bool:
    """Whether a first-layer pre-activation lies within ``bound`` of relu's kink at 0.

    There float32 and float64 may disagree on relu's derivative, so gradient
    claims are not decidable for that input; properties skip it.
    """
    z1 = dense(x, kernel, bias)
    h1 = relu(z1)
    z2 = dense(h1, kernel, bias)
    edge = np.abs(bound).max(initial=0.0) + 1e-30
    return bool((np.abs(z1) <= edge).any() or (np.abs(z2) <= 2 * edge).any())


def clear_of_kink(draw: Callable[[int], tuple], data_seed: int) -> tuple | None:
    """The first ``draw(seed)`` -> (x, kernel, bias), over seeds ``data_seed``, ``data_seed + 1``, ..., none of whose
    pre-activations is near relu's kink (:func:`near_relu_kink`); None if :data:`KINK_TRIES` draws all are.

    A layer thousands wide has thousands of pre-activations, and most single draws put one of them within
    rounding of 0: a property that rejected the draw would almost never check its big shapes (a pool's big
    shape gets one explicit example per run).
    """
    for i in range(KINK_TRIES):
        x, kernel, bias = draw(data_seed + i)
        if not near_relu_kink(x, kernel, bias, tolerances.dense_chain(x, [(kernel, bias)]).bound):
            return x, kernel, bias
    return None


def relu_branch_grads(x: object, kernel: object, bias: object) -> dict[str, np.ndarray]:
    """Gradients of sum(relu(x K + b)) w.r.t. K and b: one branch through the encoder."""
    x = f64(x)
    mask = (dense(x, kernel, bias) > 0).astype(np.float64)
    return {"kernel": x.T @ mask, "bias": mask.sum(0), "mask": mask}


def near_zero(z: np.ndarray, bound: np.ndarray) -> bool:
    """Whether any pre-activation lies within ``bound`` of relu's kink at 0."""
    return bool((np.abs(z) <= np.abs(bound).max(initial=0.0) + 1e-30).any())
