"""Document 04's float64 oracles and the tolerance for a float32 run of each.

The oracle of a stack is :func:`.block.forward` applied L times in float64;
its tolerance is the smaller, elementwise, of the first-order worst-case bound
(:mod:`.exact`: sound, but it compounds through the layers until it exceeds the
outputs) and :data:`~conformance.kit.drift.DRIFT_MARGIN` times the float32 drift
measured on this very input (:mod:`.drift`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.kit import drift as kit_drift
from conformance.kit import precision
from conformance.kit.oracles import f64
from conformance.kit.tolerances import MARGIN, Tolerance

from ..params import BlockParams
from . import block as block_maths
from .drift import output_drift_bound
from .exact import Bounded, BoundedArithmetic
from .nonlinearities import GELU_LIPSCHITZ, PYTORCH_LAYER_NORM_EPS


def block(x: Any, p: BlockParams, eps: float = PYTORCH_LAYER_NORM_EPS) -> np.ndarray:
    """One block on x: (B, S, d), in float64."""
    return block_maths.forward(Bounded.exact(x), p, BoundedArithmetic(eps)).value


def stack(
    x: Any, p: BlockParams, num_layers: int, eps: float = PYTORCH_LAYER_NORM_EPS, approximate_gelu: bool = False
) -> tuple[np.ndarray, Tolerance]:
    """The block applied ``num_layers`` times, and the tolerance for a float32 run of it.

    ``eps`` and ``approximate_gelu`` exist to show what Flax's defaults would give.
    """
    arithmetic = BoundedArithmetic(eps, approximate_gelu)
    y = Bounded.exact(x)
    for _ in range(num_layers):
        y = block_maths.forward(y, p, arithmetic)
    drift = output_drift_bound(x, p, num_layers, y.value, eps, approximate_gelu)
    how = (
        f"|actual-expected| <= min({MARGIN:g} x first-order float32 bound propagated through "
        f"{num_layers} post-LN block(s) [gamma_k|x||W| per projection, softmax, exact-GELU "
        f"(Lipschitz {GELU_LIPSCHITZ}) and LayerNorm (eps {eps:g}) terms], {kit_drift.DRIFT_MARGIN:g} x "
        f"(the token row's largest drift of two float32 NumPy runs of the same blocks, contracting in "
        f"opposite orders, from the float64 oracle + 4u|row|)); u=2^-24, {precision.describe()}"
    )
    return y.value, Tolerance(bound=np.minimum(MARGIN * y.error, drift), derivation=how)


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
    y = BoundedArithmetic(eps).layer_norm(Bounded.exact(x), np.ones(d), np.zeros(d))
    return y.value, Tolerance(
        bound=MARGIN * y.error,
        derivation=f"{MARGIN:g} x first-order float32 LayerNorm bound (mean, variance, rsqrt; eps {eps:g}), u=2^-24",
    )
