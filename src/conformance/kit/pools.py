"""The run's shape pool: a few shapes per kind, drawn afresh for each run, reaching the sizes real models use.

Every new shape is a new XLA compilation, so a run samples its examples from a
small pool; the pool itself is drawn from a seed, so successive runs cover the
ranges while each run compiles a bounded number of programs. The seed is
printed, recorded in the JSON report and carried by every reproduce command.

Ranges: rows and batch 1..256, feature widths 1..4096. Reach is per axis, not
joint: every pool holds a shape at the top quarter of each axis (the most
rows, the widest input, the widest output, the widest square layer) with the
other axes small, so that no shape's float64 oracle costs more than
:data:`BUDGET` multiply-adds; and every pool keeps the edge cases: one row,
width 1, square and non-square shapes both ways. The other shapes are drawn
log-uniformly, as powers of two or as primes.

Big shapes get few examples and small ones many, apportioned explicitly (an
example at a 4096-wide layer costs seconds, at a small one milliseconds): a
property meets each big shape in exactly one example the run adds
(:func:`conformance.kit.strategies.add_big_examples`), and its random examples
draw from the other shapes (:func:`random_draws`). Left to chance, the cost of a
run was not bounded: Hypothesis favours the ends of a list and mutates towards
values it has already drawn, so a 1-in-65 shape came up five times in a
hundred examples.

``sizes="small"`` draws the pools of earlier releases (rows to 64, widths to
512), which ``make bench`` keeps as its comparison.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

MAX_ROWS = 256
MAX_WIDTH = 4096
SMALL_MAX_ROWS, SMALL_MAX_WIDTH = 64, 512
BUDGET = 2**24  # multiply-adds of one dense shape's float64 oracle (rows x in x out, or width^2 per row)
# The ``ci`` profile's pool: fixed, so that CI sees the same shapes every run.
CI_POOL_SEED = 0
SIZES = ("real", "small")
# The benchmark's comparison run sets this to "small" (the pools of earlier releases); real runs never do.
SIZES_ENV = "CONFORMANCE_POOL_SIZES"


def top_quarter(hi: int) -> int:
    """The smallest value in the top quarter of 1..hi."""
    return int(np.ceil(0.75 * hi))


@dataclass(frozen=True)
class Pool:
    """The shapes one run samples from (``free``: sizes drawn freely, no pool), and which of them are big."""

    seed: int
    dense: tuple[tuple[int, int, int], ...]  # (rows, in_features, features)
    square: tuple[tuple[int, int], ...]  # (rows, width): layers applied to their own output
    vector: tuple[tuple[int, int], ...]  # (in, out) for the 1-D contracts
    features: tuple[int, ...]
    rows: tuple[int, ...]
    free: bool = False
    sizes: str = "real"
    big: frozenset = frozenset()  # the shapes (and sizes) at the top of an axis

    @property
    def max_rows(self) -> int:
        return MAX_ROWS if self.sizes == "real" else SMALL_MAX_ROWS

    @property
    def max_width(self) -> int:
        return MAX_WIDTH if self.sizes == "real" else SMALL_MAX_WIDTH


def size(rng: np.random.Generator, hi: int) -> int:
    """A size in 1..hi: a power of two, a prime or a log-uniform integer, equally often."""
    if hi < 2:
        return 1
    kind = rng.integers(3)
    if kind == 0:
        return int(2 ** rng.integers(0, int(np.log2(hi)) + 1))
    if kind == 1:
        return int(rng.choice(_primes(hi)))
    return int(np.clip(np.round(np.exp(rng.uniform(0, np.log(hi)))), 1, hi))


@functools.cache
def _primes(hi: int) -> tuple[int, ...]:
    sieve = np.ones(hi + 1, bool)
    sieve[:2] = False
    for p in range(2, int(hi**0.5) + 1):
        sieve[p * p :: p] &= False
    return tuple(int(p) for p in np.flatnonzero(sieve))


def _top(rng: np.random.Generator, hi: int) -> int:
    return int(rng.integers(top_quarter(hi), hi + 1))


def _under(rng: np.random.Generator, hi: int, budget: int) -> int:
    """A size in 1..min(hi, budget)."""
    return size(rng, max(1, min(hi, budget)))


def _real_pool(seed: int, free: bool) -> Pool:
    rng = np.random.default_rng(seed)
    rows = lambda: size(rng, 16)  # noqa: E731 - the small side of a shape that is big elsewhere
    width = lambda: size(rng, 64)  # noqa: E731
    many_rows = _top(rng, MAX_ROWS)
    wide_out, wide_in, wide_square = _top(rng, MAX_WIDTH), _top(rng, MAX_WIDTH), _top(rng, MAX_WIDTH)
    narrow = width()
    mid_in = size(rng, MAX_WIDTH)
    mid_out = _under(rng, MAX_WIDTH, BUDGET // mid_in)
    dense_rows = _under(rng, MAX_ROWS, BUDGET // (mid_in * mid_out))
    square_width = size(rng, 1024)
    dense = (
        (1, 1, 1),  # one row, width 1
        (rows(), narrow, wide_out),  # widening to the top of the range
        (rows(), wide_in, narrow),  # narrowing from it
        (dense_rows, mid_in, mid_out),  # any widths, under the budget
        (many_rows, width(), width()),  # the most rows
    )
    square = (
        (1, 1),
        (_under(rng, MAX_ROWS, BUDGET // square_width**2), square_width),
        (1, wide_square),  # the widest layer applied to itself
        (many_rows, width()),
    )
    vector = ((1, 1), (narrow, wide_out), (wide_in, narrow), (square_width, square_width), (width(), width()))
    features = (1, square_width, wide_square)
    row_sizes = (1, size(rng, MAX_ROWS), many_rows)
    big = frozenset({dense[1], dense[2], dense[4], square[2], square[3], vector[1], vector[2], wide_square, many_rows})
    return Pool(seed, dense, square, vector, features, row_sizes, free, "real", big)


def _small_pool(seed: int, free: bool) -> Pool:
    """The pools of earlier releases, for comparison (rows to 64, widths to 512)."""
    rng = np.random.default_rng(seed)
    rows = lambda: size(rng, SMALL_MAX_ROWS)  # noqa: E731
    many_rows = lambda: int(rng.integers(SMALL_MAX_ROWS // 2, SMALL_MAX_ROWS + 1))  # noqa: E731
    width = lambda: size(rng, SMALL_MAX_WIDTH)  # noqa: E731
    narrow, wide = sorted((width(), width()))
    while narrow == wide:
        narrow, wide = sorted((narrow, width()))
    dense = (
        (1, 1, 1),
        (rows(), narrow, wide),
        (rows(), wide, narrow),
        (1, width(), width()),
        (many_rows(), width(), width()),
    )
    square_width = width()
    square = ((1, 1), (rows(), square_width), (1, width()), (many_rows(), width()))
    vector = ((1, 1), (narrow, wide), (wide, narrow), (square_width, square_width), (width(), width()))
    return Pool(seed, dense, square, vector, (1, width(), width()), (1, rows(), many_rows()), free, "small")


@functools.cache
def draw_pool(seed: int, free: bool = False, sizes: str = "real") -> Pool:
    if sizes not in SIZES:
        raise ValueError(f"pool sizes are one of {SIZES}, got {sizes!r}")
    return (_real_pool if sizes == "real" else _small_pool)(seed, free)


def random_draws(shapes: Sequence, big: Collection) -> tuple:
    """``shapes`` a numeric property's random examples sample from: those not in ``big`` (all of them where every
    one is). Each big one gets its explicit example instead (:func:`conformance.kit.strategies.add_big_examples`)."""
    return tuple(s for s in shapes if s not in big) or tuple(shapes)


_CURRENT: Pool | None = None


def use_pool(seed: int, *, free: bool = False, sizes: str = "real") -> Pool:
    """Make the pool of ``seed`` the one strategies sample from in this process."""
    global _CURRENT
    _CURRENT = draw_pool(seed, free, sizes)
    return _CURRENT


def current_pool() -> Pool:
    return _CURRENT if _CURRENT is not None else draw_pool(CI_POOL_SEED)
