"""Input strategies.

Sizes come from small pools so that JAX compiles each shape once per run and
not once per example; the pools still mix square and non-square shapes, a
single row (N=1), and small and large feature sizes. Array contents are drawn
from a seed: Hypothesis then shrinks a seed, not thousands of floats, and a
failing input is reproduced from a handful of integers.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

# Feature sizes: 1 (degenerate), small odd, power of two, and a larger one.
FEATURE_POOL = (1, 3, 8, 32)
# Leading sizes (rows of x, batch size B).
ROW_POOL = (1, 2, 5)

SEED_MAX = 2**31 - 1


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, SEED_MAX)


def data_seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)


def features() -> st.SearchStrategy[int]:
    return st.sampled_from(FEATURE_POOL)


def rows() -> st.SearchStrategy[int]:
    return st.sampled_from(ROW_POOL)


def scales() -> st.SearchStrategy[float]:
    """Input magnitudes: tiny, unit and large, to expose scale-dependent bugs."""
    return st.sampled_from((1.0, 1e-3, 1e3))


def normal_array(data_seed: int, shape: tuple[int, ...], scale: float = 1.0,
                 dtype: type = np.float32) -> np.ndarray:
    """A reproducible standard-normal array in ``dtype``."""
    rng = np.random.default_rng(data_seed)
    return (rng.standard_normal(shape) * scale).astype(dtype)


def permutation(data_seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(data_seed + 1).permutation(n)
