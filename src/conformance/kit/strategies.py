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

from conformance.kit import naive

# Feature sizes: 1 (degenerate), small odd, power of two, and a larger one.
FEATURE_POOL = (1, 3, 8, 32)
# Leading sizes (rows of x, batch size B).
ROW_POOL = (1, 2, 5)

# Whole shapes, drawn as one value so that a run meets a few shapes many times
# rather than many shapes once each (every new shape is a new XLA compilation).
# (rows, in_features, features): square and non-square both ways, a single
# row, the degenerate width 1, and a wide layer.
DENSE_SHAPES = ((1, 3, 3), (2, 8, 3), (5, 3, 8), (2, 1, 1), (1, 32, 32), (3, 8, 8))
# (rows, width) for layers applied to their own output (in == out).
SQUARE_SHAPES = ((1, 3), (5, 8), (2, 1), (1, 32), (3, 8))
# Feature vectors for the 1-D contracts of documents 03 and 05: (in, out).
VECTOR_SHAPES = ((3, 3), (8, 3), (3, 8), (1, 1), (32, 32))

SEED_MAX = 2**31 - 1

# The benchmark's naive harness (conformance.naive) draws every size freely
# instead of from the pools.
_MAX_ROWS, _MAX_WIDTH = 8, 48


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, SEED_MAX)


def data_seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)


def features() -> st.SearchStrategy[int]:
    return st.sampled_from(FEATURE_POOL)


def rows() -> st.SearchStrategy[int]:
    return st.sampled_from(ROW_POOL)


def _width() -> st.SearchStrategy[int]:
    return st.integers(1, _MAX_WIDTH)


def dense_shapes(min_rows: int = 1) -> st.SearchStrategy[tuple[int, int, int]]:
    if naive.enabled():
        return st.tuples(st.integers(min_rows, _MAX_ROWS), _width(), _width())
    return st.sampled_from(tuple(s for s in DENSE_SHAPES if s[0] >= min_rows))


def square_shapes(min_rows: int = 1) -> st.SearchStrategy[tuple[int, int]]:
    if naive.enabled():
        return st.tuples(st.integers(min_rows, _MAX_ROWS), _width())
    return st.sampled_from(tuple(s for s in SQUARE_SHAPES if s[0] >= min_rows))


def vector_shapes() -> st.SearchStrategy[tuple[int, int]]:
    if naive.enabled():
        return st.tuples(_width(), _width())
    return st.sampled_from(VECTOR_SHAPES)


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
