"""Document 02's lifted modules in NumPy float64: a one-example recurrent cell, running batch means."""

from __future__ import annotations

import numpy as np

from conformance.kit import drift, tolerances
from conformance.kit.oracles import dense, f64

# nn.BatchNorm's default momentum: a running mean starting at 0 becomes (1 - 0.99) x the batch mean.
BATCH_NORM_MOMENTUM = 0.99


def cell(h: object, x: object, params: dict) -> tuple[np.ndarray, tolerances.Tolerance]:
    """tanh(x K + b + h), row by row, and its float32 bound.

    tanh is 1-Lipschitz, so the pre-activation's bound carries over; its own
    rounding adds a few ulps of the result.
    """
    inp = params["input"]
    pre = dense(x, inp["kernel"], inp["bias"]) + f64(h)
    out = np.tanh(pre)
    tol = tolerances.combined(
        (1.0, tolerances.dense_chain(x, [(inp["kernel"], inp["bias"])])),
        (1.0, tolerances.elementwise(pre, ulps=1)),
        (1.0, tolerances.elementwise(out, ulps=4)),
    )
    return out, tol


def running_mean(x: object) -> tuple[np.ndarray, tolerances.Tolerance]:
    """BatchNorm's running mean after one update from zero, over axis -2 of x (..., S, d), and its bound.

    The batch mean is a sum of S terms divided by S; the momentum factor adds a
    rounding of its own. The bound is the smaller of that worst case and the
    float32 drift measured on these rows (:mod:`conformance.kit.drift`).
    """
    x32 = np.asarray(x, np.float32)
    x = f64(x)
    s = x.shape[-2]
    u = tolerances.unit_roundoff()
    share = 1.0 - BATCH_NORM_MOMENTUM
    mean = x.mean(axis=-2)
    expected = share * mean
    err = share * (tolerances.gamma(s) * np.abs(x).mean(axis=-2) + u * np.abs(mean)) + 2 * u * np.abs(expected)
    how = (
        f"{tolerances.MARGIN:g} x ({share:g} x (gamma_S mean|x| + u |mean|) + 2u |expected|), S={s} rows, "
        f"u=2^{int(np.log2(u))}"
    )

    def float32_run(order: int) -> np.ndarray:
        rows = x32[..., drift.contraction_order(s, order), :]
        return np.float32(share) * (rows.sum(axis=-2, dtype=np.float32) / np.float32(s))

    drifted = drift.drift_bound(float32_run, expected) + tolerances.MARGIN * u * share * np.abs(x).mean(axis=-2)
    return expected, tolerances.Tolerance(
        np.minimum(tolerances.MARGIN * err, drifted),
        f"the smaller of [{how}] and the drift bound [{drift.describe()} + {tolerances.MARGIN:g} x one rounding per term]",
        magnitude=tolerances.uncancelled(share * np.abs(x).mean(axis=-2), s),
    )
