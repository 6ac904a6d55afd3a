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

import zlib
from typing import Any

import numpy as np
from hypothesis import strategies as st

from conformance.kit import naive, pools
from conformance.kit.pools import current_pool

SEED_MAX = 2**31 - 1


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, SEED_MAX)


def data_seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)


def _free(structural: bool) -> bool:
    return structural or naive.enabled() or current_pool().free


def free_rows(min_rows: int = 1) -> st.SearchStrategy[int]:
    return st.deferred(lambda: st.integers(min_rows, max(min_rows, current_pool().max_rows)))


def free_widths(hi: int | None = None) -> st.SearchStrategy[int]:
    """Any width in 1..hi (default: the pool's range), with powers of two and 1 drawn often enough to be met."""

    def widths() -> st.SearchStrategy[int]:
        top = hi or current_pool().max_width
        return st.one_of(st.integers(1, top), st.sampled_from([2**k for k in range(top.bit_length())]))

    return st.deferred(widths)


def _pooled(pick, free, *, structural: bool = False) -> st.SearchStrategy:
    # Deferred: the pool is chosen when the run starts, after the property modules were imported.
    def draw() -> st.SearchStrategy:
        pool = current_pool()
        return free() if _free(structural) else st.sampled_from(pools.random_draws(pick(pool), pool.big))

    strategy = st.deferred(draw)
    if not structural:
        strategy.conformance_big = lambda pool: tuple(v for v in pick(pool) if v in pool.big)
    return strategy


def add_big_examples(test: Any, pool: pools.Pool) -> int:
    """Exactly one explicit example for every big value of the run's pool that ``test`` draws (its random
    examples draw the others: :func:`pools.random_draws`).

    The other arguments take their simplest values (the first of a list, the smallest number), except seeds,
    which are drawn from the pool's seed and the property's name: successive runs meet a big shape with
    different data, and a run replays its own. Returns how many examples were added.
    """
    from hypothesis import Phase, example, find, settings

    given = getattr(getattr(test, "hypothesis", None), "_given_kwargs", None)
    if not given or pool.free:
        return 0
    pooled = {name: s.conformance_big(pool) for name, s in given.items() if hasattr(s, "conformance_big")}
    if not any(pooled.values()):
        return 0
    # Its own phases: the loaded profile's may generate nothing (the replay profile runs explicit examples only).
    quick = settings(database=None, max_examples=20, deadline=None, phases=[Phase.generate])
    simplest = {name: find(s, lambda _: True, settings=quick) for name, s in given.items()}
    rng = np.random.default_rng([pool.seed, zlib.crc32(test.__qualname__.encode())])
    added = 0
    for name, values in pooled.items():
        for value in values:
            seeds = {k: int(rng.integers(0, SEED_MAX + 1)) for k in simplest if _is_seed(k, simplest[k])}
            example(**{**simplest, **seeds, name: value})(test)
            added += 1
    return added


def _is_seed(name: str, simplest: Any) -> bool:
    """Arguments named ``seed`` or ``*_seed`` take any int in 0..SEED_MAX (:func:`seeds`, :func:`data_seeds`)."""
    return (name == "seed" or name.endswith("_seed")) and isinstance(simplest, int)


def features(*, structural: bool = False) -> st.SearchStrategy[int]:
    return _pooled(lambda p: p.features, free_widths, structural=structural)


def rows(*, structural: bool = False) -> st.SearchStrategy[int]:
    return _pooled(lambda p: p.rows, free_rows, structural=structural)


@st.composite
def _free_dense(draw, min_rows: int) -> tuple[int, int, int]:
    """Free widths, and as many rows as the oracle's budget leaves (at least ``min_rows``)."""
    in_features, out_features = draw(free_widths()), draw(free_widths())
    most = max(min_rows, min(current_pool().max_rows, pools.BUDGET // (in_features * out_features)))
    return draw(st.integers(min_rows, most)), in_features, out_features


@st.composite
def _free_square(draw, min_rows: int) -> tuple[int, int]:
    width = draw(free_widths())
    most = max(min_rows, min(current_pool().max_rows, pools.BUDGET // (width * width)))
    return draw(st.integers(min_rows, most)), width


def dense_shapes(min_rows: int = 1, *, structural: bool = False) -> st.SearchStrategy[tuple[int, int, int]]:
    """(rows, in_features, features)."""
    return _pooled(
        lambda p: tuple(s for s in p.dense if s[0] >= min_rows), lambda: _free_dense(min_rows), structural=structural
    )


def square_shapes(min_rows: int = 1, *, structural: bool = False) -> st.SearchStrategy[tuple[int, int]]:
    """(rows, width) for layers applied to their own output (in == out)."""
    return _pooled(
        lambda p: tuple(s for s in p.square if s[0] >= min_rows), lambda: _free_square(min_rows), structural=structural
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
