"""Dense-layer reference computations in NumPy float64, shared by the documents' oracles.

Oracles take parameters the suite extracted (as arrays) and never call the
implementation under test, so a shared bug cannot cancel out.
"""

from __future__ import annotations

import numpy as np


def f64(a: object) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def dense(x: object, kernel: object, bias: object | None = None) -> np.ndarray:
    y = f64(x) @ f64(kernel)
    return y if bias is None else y + f64(bias)
