"""Input strategies.

Sizes come from the run's shape pool (:mod:`conformance.kit.pools`): a few
shapes drawn afresh for each run from wide ranges, so that JAX compiles each
shape once per run and successive runs cover the whole size range. Whole
shapes are drawn as one value, so a run meets a few shapes many times rather
than many shapes once each, and a failing input names its exact shape.

Properties that only look at structure (``jax.eval_shape``, nothing compiled)
pass ``structural=True`` and draw sizes freely from the full ranges. With the
``thorough`` profile (``Pool.free``) every property does, and the benchmark's
naive harness (:mod:`conformance.kit.naive`) does too.

Array contents are drawn from a seed: Hypothesis then shrinks a seed, not
thousands of floats, and a failing input is reproduced from a handful of integers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance.kit import naive
from conformance.kit.pools import MAX_ROWS, MAX_WIDTH, current_pool

SEED_MAX = 2**31 - 1


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, SEED_MAX)


def data_seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)


def _free(structural: bool) -> bool:
    return structural or naive.enabled() or current_pool().free


def free_rows(min_rows: int = 1) -> st.SearchStrategy[int]:
    return st.integers(min_rows, MAX_ROWS)


def free_widths() -> st.SearchStrategy[int]:
    """Any width in 1..512, with powers of two and 1 drawn often enough to be met."""
    return st.one_of(st.integers(1, MAX_WIDTH), st.sampled_from([2**k for k in range(10)]))


def _pooled(pick, free, *, structural: bool = False) -> st.SearchStrategy:
    # Deferred: the pool is chosen when the run starts, after the property modules were imported.
    return st.deferred(lambda: free() if _free(structural) else st.sampled_from(pick(current_pool())))


def features(*, structural: bool = False) -> st.SearchStrategy[int]:
    return _pooled(lambda p: p.features, free_widths, structural=structural)


def rows(*, structural: bool = False) -> st.SearchStrategy[int]:
    return _pooled(lambda p: p.rows, free_rows, structural=structural)


def dense_shapes(min_rows: int = 1, *, structural: bool = False) -> st.SearchStrategy[tuple[int, int, int]]:
    """(rows, in_features, features)."""
    return _pooled(
        lambda p: tuple(s for s in p.dense if s[0] >= min_rows),
        lambda: st.tuples(free_rows(min_rows), free_widths(), free_widths()),
        structural=structural,
    )


def square_shapes(min_rows: int = 1, *, structural: bool = False) -> st.SearchStrategy[tuple[int, int]]:
    """(rows, width) for layers applied to their own output (in == out)."""
    return _pooled(
        lambda p: tuple(s for s in p.square if s[0] >= min_rows),
        lambda: st.tuples(free_rows(min_rows), free_widths()),
        structural=structural,
    )


def vector_shapes(*, structural: bool = False) -> st.SearchStrategy[tuple[int, int]]:
    """(in, out) for the 1-D contracts of documents 03 and 05."""
    return _pooled(lambda p: p.vector, lambda: st.tuples(free_widths(), free_widths()), structural=structural)


def scales() -> st.SearchStrategy[float]:
    """Input magnitudes: tiny, unit and large, to expose scale-dependent bugs."""
    return st.sampled_from((1.0, 1e-3, 1e3))


def normal_array(data_seed: int, shape: tuple[int, ...], scale: float = 1.0, dtype: type = np.float32) -> np.ndarray:
    """A reproducible standard-normal array in ``dtype``."""
    rng = np.random.default_rng(data_seed)
    return (rng.standard_normal(shape) * scale).astype(dtype)


def normal_tree(data_seed: int, shapes: Any) -> Any:
    """Reproducible float32 arrays in the structure of a tree of shapes (``jax.eval_shape``'s output).

    Each leaf is standard normal, divided by the square root of its fan-in
    (the next-to-last axis) when it has two axes or more: values of the order of
    a fresh layer's, drawn without compiling an initialiser, for claims about
    how params are used rather than how they are initialised.
    """
    import jax

    rng = np.random.default_rng(data_seed)

    def draw(leaf: Any) -> np.ndarray:
        shape = tuple(leaf.shape)
        scale = 1.0 / np.sqrt(shape[-2]) if len(shape) >= 2 else 1.0
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    return jax.tree_util.tree_map(draw, shapes)


def permutation(data_seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(data_seed + 1).permutation(n)


def random_params(shapes: Any, seed: int) -> Any:
    """Float32 values for a parameter tree, drawn from ``seed`` (the tree's structure is kept).

    Kernels (ndim >= 2) are N(0, 1/fan_in) with fan_in the product of all but
    the last axis; a 1-D leaf named ``scale`` is 1 + N(0, 0.2^2); other 1-D
    leaves are N(0, 0.2^2). Any values serve the properties that use this
    (they compare computations on the same parameters); these keep
    activations at unit scale so that every nonlinearity is exercised.
    """
    rng = np.random.default_rng(seed)

    def fill(node: Any, name: str) -> Any:
        if hasattr(node, "keys"):
            return {k: fill(node[k], str(k)) for k in sorted(node.keys(), key=str)}  # the tree's own keys
        shape = tuple(np.shape(node))
        z = rng.standard_normal(shape)
        if len(shape) >= 2:
            z = z / np.sqrt(float(np.prod(shape[:-1])))
        elif name == "scale":
            z = 1.0 + 0.2 * z
        else:
            z = 0.2 * z
        return z.astype(np.float32)

    return fill(shapes, "")
