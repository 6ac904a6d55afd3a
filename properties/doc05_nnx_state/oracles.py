"""Document 05's float64 oracles (the forward pass is kit's dense layer, :func:`conformance.kit.oracles.dense`)."""

from __future__ import annotations

import numpy as np

from conformance.kit.oracles import f64


def weighted_output_grads(x, weights) -> dict[str, np.ndarray]:
    """d (sum(w * (x K + b)) + count) / dK = x outer w, / db = w."""
    return {"kernel": np.outer(f64(x), f64(weights)), "bias": f64(weights)}
