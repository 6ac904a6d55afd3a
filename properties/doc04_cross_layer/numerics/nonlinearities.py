"""The nonlinearities and LayerNorm epsilon of the document's PyTorch code, in float64.

PyTorch's ``nn.GELU()`` is exact (erf) and ``nn.LayerNorm`` uses eps 1e-5;
Flax's defaults differ (tanh GELU, eps 1e-6), which framework properties record.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from conformance.kit.oracles import f64

PYTORCH_LAYER_NORM_EPS = 1e-5
GELU_LIPSCHITZ = 1.13  # max |d/dx x*Phi(x)| = 1.1289...

_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu_exact(x: Any) -> np.ndarray:
    x = f64(x)
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def normal_cdf(x: Any) -> np.ndarray:
    """Phi(x): exact GELU is x Phi(x), its slope Phi(x) + x phi(x)."""
    return 0.5 * (1.0 + _erf(f64(x) / math.sqrt(2.0)))


def normal_pdf(x: Any) -> np.ndarray:
    x = f64(x)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def gelu_tanh(x: Any) -> np.ndarray:
    x = f64(x)
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
