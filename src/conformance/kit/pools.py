"""The run's shape pool: a few shapes per kind, drawn afresh for each run from wide ranges.

Every new shape is a new XLA compilation, so a run samples its examples from a
small pool; the pool itself is drawn from a seed, so successive runs cover the
whole size range while each run compiles a bounded number of programs. The seed
is printed, recorded in the JSON report and carried by every reproduce command.

Ranges: rows and batch 1..64, feature widths 1..512 (odd, prime and
power-of-two sizes alike). Every pool keeps the edge cases: one row, width 1,
square and non-square shapes both ways.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

MAX_ROWS = 64
MAX_WIDTH = 512
# The ``ci`` profile's pool: fixed, so that CI sees the same shapes every run.
CI_POOL_SEED = 0

_PRIMES = tuple(p for p in range(2, MAX_WIDTH + 1) if all(p % q for q in range(2, int(p**0.5) + 1)))


@dataclass(frozen=True)
class Pool:
    """The shapes one run samples from (``free``: sizes drawn freely, no pool)."""

    seed: int
    dense: tuple[tuple[int, int, int], ...]  # (rows, in_features, features)
    square: tuple[tuple[int, int], ...]  # (rows, width): layers applied to their own output
    vector: tuple[tuple[int, int], ...]  # (in, out) for the 1-D contracts
    features: tuple[int, ...]
    rows: tuple[int, ...]
    free: bool = False


def size(rng: np.random.Generator, hi: int) -> int:
    """A size in 1..hi: a power of two, a prime or a log-uniform integer, equally often."""
    kind = rng.integers(3)
    if kind == 0:
        return int(2 ** rng.integers(0, int(np.log2(hi)) + 1))
    if kind == 1:
        return int(rng.choice([p for p in _PRIMES if p <= hi]))
    return int(np.clip(np.round(np.exp(rng.uniform(0, np.log(hi)))), 1, hi))


@functools.cache
def draw_pool(seed: int, free: bool = False) -> Pool:
    rng = np.random.default_rng(seed)
    rows = lambda: size(rng, MAX_ROWS)  # noqa: E731
    many_rows = lambda: int(rng.integers(MAX_ROWS // 2, MAX_ROWS + 1))  # noqa: E731
    width = lambda: size(rng, MAX_WIDTH)  # noqa: E731
    narrow, wide = sorted((width(), width()))
    while narrow == wide:
        narrow, wide = sorted((narrow, width()))
    dense = (
        (1, 1, 1),  # one row, width 1
        (rows(), narrow, wide),  # widening
        (rows(), wide, narrow),  # narrowing
        (1, width(), width()),  # one row, any widths
        (many_rows(), width(), width()),
    )  # a large batch
    square_width = width()
    square = ((1, 1), (rows(), square_width), (1, width()), (many_rows(), width()))
    vector = ((1, 1), (narrow, wide), (wide, narrow), (square_width, square_width), (width(), width()))
    return Pool(
        seed=seed,
        dense=dense,
        square=square,
        vector=vector,
        features=(1, width(), width()),
        rows=(1, rows(), many_rows()),
        free=free,
    )


_CURRENT: Pool | None = None


def use_pool(seed: int, *, free: bool = False) -> Pool:
    """Make the pool of ``seed`` the one strategies sample from in this process."""
    global _CURRENT
    _CURRENT = draw_pool(seed, free)
    return _CURRENT


def current_pool() -> Pool:
    return _CURRENT if _CURRENT is not None else draw_pool(CI_POOL_SEED)
