"""Input strategies for document 04 (Transformer blocks and stacks).

Two kinds of property draw sizes differently:

- Properties that only look at structure (parameter counts, output shapes) use
  ``jax.eval_shape``: nothing is compiled, so they sample sixteen size
  combinations per run drawn from the whole range (:func:`draw_structural`):
  1 to 12 layers, d_model up to 256, a head count that divides it, d_ff on
  either side of d_model.
- Properties that run a model compile it once per shape. They draw a
  :data:`CASES` index instead: the run's case pool, drawn from the run's pool
  seed (:mod:`conformance.kit.pools`): two small fixed cases (one layer and one
  token; two layers, two heads), a deep one (4 to 12 layers, d_model up to 16,
  d_ff above it) and a wide one (1 to 3 layers, d_model 32 to 256, up to 8
  heads, d_ff below it). Each case is compiled once per run; seeds and data
  vary freely, and successive runs cover the range.

d_ff never equals d_model, so that the two FFN projections can be told apart
by shape (see :func:`.reading.units.block_structure`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from conformance.kit.pools import current_pool

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


MAX_LAYERS, MAX_D_MODEL = 12, 256
FIXED_CASES = (
    Case(num_layers=1, d_model=4, num_heads=1, d_ff=8, batch=1, seq=1),
    Case(num_layers=2, d_model=4, num_heads=2, d_ff=8, batch=2, seq=3),
)


def _d_ff(rng: np.random.Generator, d: int, above: bool) -> int:
    """A d_ff on one side of d, never d or 3d (the pieces are told apart by shape)."""
    while True:
        f = int(rng.integers(d + 1, 4 * d + 1)) if above else int(rng.integers(1, d))
        if f not in (d, 3 * d):
            return f


@functools.cache
def draw_cases(seed: int) -> tuple[Case, ...]:
    """The run's cases: the fixed ones, a deep one and a wide one drawn from ``seed``."""
    rng = np.random.default_rng([seed, 4])
    d = int(rng.choice([4, 8, 16]))
    heads = int(rng.choice([h for h in (1, 2, 4) if d % h == 0]))
    deep = Case(
        int(rng.integers(4, MAX_LAYERS + 1)),
        d,
        heads,
        _d_ff(rng, d, above=True),
        int(rng.integers(1, 5)),
        int(rng.integers(1, 7)),
    )
    heads = int(rng.choice([1, 2, 4, 8]))
    d = heads * int(rng.integers(max(1, 32 // heads), MAX_D_MODEL // heads + 1))
    wide = Case(
        int(rng.integers(1, 4)), d, heads, _d_ff(rng, d, above=False), int(rng.integers(1, 5)), int(rng.integers(1, 9))
    )
    return (*FIXED_CASES, deep, wide)


class _RunCases(Sequence):
    """:data:`CASES`: the current run's cases, chosen when the run starts (after import)."""

    def __getitem__(self, i):
        return draw_cases(current_pool().seed)[i]

    def __len__(self) -> int:
        return len(draw_cases(current_pool().seed))


CASES: Sequence[Case] = _RunCases()


def cases(min_layers: int = 1) -> st.SearchStrategy[int]:
    """An index into :data:`CASES` (an int; the reproduce command carries the pool seed)."""
    return st.deferred(lambda: st.sampled_from([i for i, c in enumerate(CASES) if c.num_layers >= min_layers]))


def block_sizes() -> st.SearchStrategy[tuple[int, int, int, int, int]]:
    """(d_model, num_heads, d_ff, batch, seq) of one of the run's cases: for properties that lower, not run, a block."""
    return st.deferred(lambda: st.sampled_from(sorted({(*c.dims, c.batch, c.seq) for c in CASES})))


def pooled_d_models() -> st.SearchStrategy[int]:
    """The d_model of one of the run's cases: for properties that compile per width."""
    return st.deferred(lambda: st.sampled_from(sorted({c.d_model for c in CASES})))


STRUCTURAL_POOL_SIZE = 16


@functools.cache
def draw_structural(seed: int) -> tuple[tuple[int, int, int, int], ...]:
    """(num_layers, d_model, num_heads, d_ff) combinations for structural properties, from the whole range.

    Tracing a 12-layer model at d_model 256 under jax.eval_shape takes a fraction of a second, so
    a hundred free draws per property would cost minutes; sixteen per run, each traced once and
    shared by the structural properties, cover the range over successive runs.
    """
    rng = np.random.default_rng([seed, 40])
    out = [(1, 4, 1, 8), (MAX_LAYERS, 8, 2, 16)]  # the smallest, and the deepest stack
    while len(out) < STRUCTURAL_POOL_SIZE:
        d = int(rng.integers(1, MAX_D_MODEL + 1))
        heads = int(rng.choice([h for h in range(1, d + 1) if d % h == 0]))
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
