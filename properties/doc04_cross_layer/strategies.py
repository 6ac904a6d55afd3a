"""Input strategies for document 04 (Transformer blocks and stacks).

Two kinds of property draw sizes differently:

- Properties that only look at structure (parameter counts, output shapes) use
  ``jax.eval_shape``: nothing is compiled, so they sample sixteen size
  combinations per run drawn from the whole range (:func:`draw_structural`),
  the smallest and the largest model of the ranges among them.
- Properties that run a model compile it once per shape. They draw a
  :data:`CASES` index instead: the run's case pool, drawn from the run's pool
  seed (:mod:`conformance.kit.pools`): two edge cases, cases at the top
  quarter of each axis with the others small (widest, longest sequence,
  deepest on the largest batch), and a cheap one drawn freely (:func:`_real_cases`).
  Each case is compiled once per run; seeds and data vary freely, cheap cases
  take most examples (:func:`cases`), and successive runs cover the range.

d_ff never equals d_model, so that the two FFN projections can be told apart
by shape (see :func:`.reading.units.block_structure`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import example, reject
from hypothesis import strategies as st

from conformance.kit.pools import current_pool, random_draws, top_quarter

# The document's example configuration (section 4).
DOC_LAYERS, DOC_D_MODEL, DOC_HEADS, DOC_D_FF = 12, 512, 8, 2048


@dataclass(frozen=True)
class Case:
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    batch: int
    seq: int

    @property
    def dims(self) -> tuple[int, int, int]:
        """TransformerBlock's arguments: (d_model, num_heads, d_ff)."""
        return (self.d_model, self.num_heads, self.d_ff)

    @property
    def x_shape(self) -> tuple[int, int, int]:
        return (self.batch, self.seq, self.d_model)

    @property
    def longest_contraction(self) -> int:
        """The longest sum in a forward or backward pass through a block: a width, the sequence, or every token."""
        return max(self.d_model, self.d_ff, self.seq, self.batch * self.seq)

    def __str__(self) -> str:
        return (
            f"L={self.num_layers}, d_model={self.d_model}, heads={self.num_heads}, "
            f"d_ff={self.d_ff}, input ({self.batch}, {self.seq}, {self.d_model})"
        )


# The ranges real models run at (ALBERT/BERT-base: 12 layers, d_model 768, 12 heads, d_ff 3072, 128-512 tokens).
MAX_BATCH, MAX_SEQ, MAX_HEADS, MAX_D_MODEL, MAX_D_FF, MAX_LAYERS = 64, 512, 16, 1024, 4096, 24
# The float64 oracle's multiply-adds for one example of a case (forward, bounds and drift runs count apart).
CASE_BUDGET = 2**28
# What a BERT/ALBERT-base model runs (the thorough profile's second real-size case).
BASE_LAYERS, BASE_D_MODEL, BASE_HEADS, BASE_D_FF, BASE_SEQ = 12, 768, 12, 3072, 128

EDGE_CASES = (
    Case(num_layers=1, d_model=1, num_heads=1, d_ff=2, batch=1, seq=1),  # one of everything (d_ff=1 would equal d)
    # d_ff 1, head size 1; d_model 3, as at 2 a LayerNorm's output is +-1 whatever its input, and no gradient passes it
    Case(num_layers=2, d_model=3, num_heads=3, d_ff=1, batch=2, seq=3),
)
SMALL_FIXED_CASES = (
    Case(num_layers=1, d_model=4, num_heads=1, d_ff=8, batch=1, seq=1),
    Case(num_layers=2, d_model=4, num_heads=2, d_ff=8, batch=2, seq=3),
)
SMALL_MAX_LAYERS, SMALL_MAX_D_MODEL = 12, 256


def oracle_cost(c: Case) -> int:
    """Multiply-adds of the float64 oracle on one example: projections, attention scores and mixing, the FFN."""
    per_token = 4 * c.d_model**2 + 2 * c.d_model * c.d_ff + 2 * c.seq * c.d_model
    return c.num_layers * c.batch * c.seq * per_token


def _d_ff(rng: np.random.Generator, d: int, above: bool) -> int:
    """A d_ff on one side of d, never d or 3d (the pieces are told apart by shape)."""
    while True:
        f = int(rng.integers(d + 1, 4 * d + 1)) if above else int(rng.integers(1, d))
        if f not in (d, 3 * d):
            return f


def _top(rng: np.random.Generator, hi: int) -> int:
    return int(rng.integers(top_quarter(hi), hi + 1))


def _small_model(rng: np.random.Generator) -> tuple[int, int, int]:
    """(d_model, heads, d_ff) of a case that is big on another axis."""
    d = int(rng.choice([4, 8, 16]))
    return d, int(rng.choice([h for h in (1, 2, 4) if d % h == 0])), _d_ff(rng, d, above=bool(rng.integers(2)))


def _real_cases(seed: int) -> tuple[Case, ...]:
    """The edge cases, then one case at the top quarter of each axis with the others small, then a cheap one drawn
    freely.

    Reach is per axis: the widest case (d_model, heads and d_ff at the top) runs one token or a few, the
    longest sequence a small model, the deepest stack small layers on the largest batch of a few tokens; every
    case stays within :data:`CASE_BUDGET` multiply-adds of float64 oracle per example.
    """
    rng = np.random.default_rng([seed, 4])
    heads = _top(rng, MAX_HEADS)
    d = heads * int(rng.integers(-(-top_quarter(MAX_D_MODEL) // heads), MAX_D_MODEL // heads + 1))
    d_ff = next(f for f in iter(lambda: _top(rng, MAX_D_FF), None) if f not in (d, 3 * d))
    wide = Case(1, d, heads, d_ff, 1, int(rng.integers(2, 5)))  # two tokens at least: attention weights matter
    long = Case(int(rng.integers(1, 3)), *_small_model(rng), 1, _top(rng, MAX_SEQ))
    # The deepest stack also runs the largest batch: a case costs its programs' compilations, which grow with
    # depth and width but not with the batch, and a few tokens of a small model per row keep the runs cheap.
    deep = Case(_top(rng, MAX_LAYERS), *_small_model(rng), _top(rng, MAX_BATCH), int(rng.integers(1, 5)))
    while True:  # anything in the ranges that is cheap: it takes most of a property's random examples
        d_free = int(np.clip(np.round(np.exp(rng.uniform(0, np.log(MAX_D_MODEL)))), 1, MAX_D_MODEL))
        heads_free = int(rng.choice([h for h in range(1, min(MAX_HEADS, d_free) + 1) if d_free % h == 0]))
        free = Case(
            int(rng.integers(1, 7)), d_free, heads_free, _d_ff(rng, d_free, above=d_free < 4 or bool(rng.integers(2))),
            int(rng.integers(1, 9)), int(rng.integers(1, 33)),
        )  # fmt: skip
        if not is_big(free) and free.d_model > 2:
            break
    return (*EDGE_CASES, wide, long, deep, free)


def _small_cases(seed: int) -> tuple[Case, ...]:
    """The cases of earlier releases, for ``make bench``'s comparison: two fixed, a deep one and a wide one."""
    rng = np.random.default_rng([seed, 4])
    d = int(rng.choice([4, 8, 16]))
    heads = int(rng.choice([h for h in (1, 2, 4) if d % h == 0]))
    deep = Case(
        int(rng.integers(4, SMALL_MAX_LAYERS + 1)),
        d,
        heads,
        _d_ff(rng, d, above=True),
        int(rng.integers(1, 5)),
        int(rng.integers(1, 7)),
    )
    heads = int(rng.choice([1, 2, 4, 8]))
    d = heads * int(rng.integers(max(1, 32 // heads), SMALL_MAX_D_MODEL // heads + 1))
    wide = Case(
        int(rng.integers(1, 4)), d, heads, _d_ff(rng, d, above=False), int(rng.integers(1, 5)), int(rng.integers(1, 9))
    )
    return (*SMALL_FIXED_CASES, deep, wide)


@functools.cache
def draw_cases(seed: int, sizes: str = "real") -> tuple[Case, ...]:
    """The run's cases, drawn from ``seed``."""
    return _real_cases(seed) if sizes == "real" else _small_cases(seed)


# The thorough profile also runs every numeric property once at the document's own configuration and at
# BERT/ALBERT-base's (explicit examples, :func:`at_real_sizes`); other profiles skip them.
REAL_SIZE_CASES = {
    100: Case(DOC_LAYERS, DOC_D_MODEL, DOC_HEADS, DOC_D_FF, 1, 128),
    101: Case(BASE_LAYERS, BASE_D_MODEL, BASE_HEADS, BASE_D_FF, 1, BASE_SEQ),
}


class _RunCases(Sequence):
    """:data:`CASES`: the current run's cases, chosen when the run starts (after import)."""

    def __getitem__(self, i):
        if i in REAL_SIZE_CASES:
            if not current_pool().free:
                reject()  # a real-size case outside the thorough profile: skipped, not an example
            return REAL_SIZE_CASES[i]
        return draw_cases(current_pool().seed, current_pool().sizes)[i]

    def __len__(self) -> int:
        return len(draw_cases(current_pool().seed, current_pool().sizes))


CASES: Sequence[Case] = _RunCases()


def cases(min_layers: int = 1, min_d_model: int = 1) -> st.SearchStrategy[int]:
    """An index into :data:`CASES` (an int; the reproduce command carries the pool seed).

    Apportioned by cost: random examples draw the cheap cases (:func:`is_big` false), and each big case is met
    in exactly one explicit example the run adds (:func:`conformance.kit.strategies.add_big_examples`). The
    comparison pools of earlier releases (``sizes="small"``) keep their uniform draws.
    """

    def fitting(pool) -> list[int]:
        run = draw_cases(pool.seed, pool.sizes)
        return [i for i, c in enumerate(run) if c.num_layers >= min_layers and c.d_model >= min_d_model]

    def big(pool) -> tuple[int, ...]:
        run = draw_cases(pool.seed, pool.sizes)
        return tuple(i for i in fitting(pool) if pool.sizes == "real" and is_big(run[i]))

    def draw() -> st.SearchStrategy[int]:
        pool = current_pool()
        top = big(pool)
        return st.sampled_from(random_draws(fitting(pool), top))

    strategy = st.deferred(draw)
    strategy.conformance_big = big  # each met once per property through an explicit example (kit.strategies)
    return strategy


# Above this many float64 multiply-adds an example costs tenths of a second (oracle, float32 drift runs,
# the implementation's call); the edge cases cost a few thousand.
CHEAP_CASE = 2**20


def is_big(c: Case) -> bool:
    """At the top quarter of an axis, or dearer than :data:`CHEAP_CASE` (the freely drawn case may be either)."""
    tops = ((c.batch, MAX_BATCH), (c.seq, MAX_SEQ), (c.num_heads, MAX_HEADS), (c.d_model, MAX_D_MODEL),
            (c.d_ff, MAX_D_FF), (c.num_layers, MAX_LAYERS))  # fmt: skip
    return oracle_cost(c) > CHEAP_CASE or any(v >= top_quarter(hi) for v, hi in tops)


def at_real_sizes(**others):
    """Explicit examples at the document's configuration and at BERT/ALBERT-base's, ``others`` giving the other
    arguments: the thorough profile runs each once, every other profile skips them."""

    def add(test):
        for index in REAL_SIZE_CASES:
            test = example(case=index, **others)(test)
        return test

    return add


def block_sizes() -> st.SearchStrategy[tuple[int, int, int, int, int]]:
    """(d_model, num_heads, d_ff, batch, seq) of one of the run's cases: for properties that lower, not run, a block."""
    return st.deferred(lambda: st.sampled_from(sorted({(*c.dims, c.batch, c.seq) for c in CASES})))


def pooled_d_models(minimum: int = 1) -> st.SearchStrategy[int]:
    """The d_model of one of the run's cases: for properties that compile per width."""
    return st.deferred(lambda: st.sampled_from(sorted({c.d_model for c in CASES if c.d_model >= minimum})))


STRUCTURAL_POOL_SIZE = 16


@functools.cache
def draw_structural(seed: int) -> tuple[tuple[int, int, int, int], ...]:
    """(num_layers, d_model, num_heads, d_ff) combinations for structural properties, from the whole range.

    Tracing a model under jax.eval_shape compiles nothing, but a 24-layer model at d_model 1024 still
    takes a second or two, so a hundred free draws per property would cost minutes; sixteen per run,
    each traced once and shared by the structural properties, cover the range over successive runs.
    The edge cases (width 1; d_ff 1 and head size 1) and the largest model of the ranges are in every run.
    """
    rng = np.random.default_rng([seed, 40])
    out = [(1, 1, 1, 2), (2, 3, 3, 1), (MAX_LAYERS, MAX_D_MODEL, MAX_HEADS, MAX_D_FF), (MAX_LAYERS, 8, 2, 16)]
    while len(out) < STRUCTURAL_POOL_SIZE:
        if rng.integers(2):  # small widths as often as large ones
            d = int(np.clip(np.round(np.exp(rng.uniform(0, np.log(MAX_D_MODEL)))), 1, MAX_D_MODEL))
        else:
            d = int(rng.integers(1, MAX_D_MODEL + 1))
        d += d == 2  # see EDGE_CASES: no probe reads a block through a LayerNorm of two elements
        heads = int(rng.choice([h for h in range(1, min(d, MAX_HEADS) + 1) if d % h == 0]))
        out.append(
            (int(rng.integers(1, MAX_LAYERS + 1)), d, heads, _d_ff(rng, d, above=bool(rng.integers(2)) or d == 1))
        )
    return tuple(out)


# One combination per example, shared by the four size arguments so that they fit together.
_SIZES = st.shared(st.deferred(lambda: st.sampled_from(draw_structural(current_pool().seed))), key="doc04-sizes")


def layer_counts() -> st.SearchStrategy[int]:
    return _SIZES.map(lambda s: s[0])


def d_models() -> st.SearchStrategy[int]:
    return _SIZES.map(lambda s: s[1])


def head_counts() -> st.SearchStrategy[int]:
    return _SIZES.map(lambda s: s[2])


def d_ffs() -> st.SearchStrategy[int]:
    return _SIZES.map(lambda s: s[3])


def input_scales() -> st.SearchStrategy[float]:
    """Input magnitudes; a small one makes LayerNorm's eps matter."""
    return st.sampled_from((1.0, 0.1, 10.0))
