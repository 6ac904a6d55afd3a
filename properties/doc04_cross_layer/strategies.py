"""Input strategies for document 04 (Transformer blocks and stacks).

Two kinds of property draw sizes differently:

- Properties that only look at structure (parameter counts, sharing layout,
  output shapes) use ``jax.eval_shape``: nothing is compiled, so they draw each
  size independently from small pools.
- Properties that run a model compile it once per shape. They draw a
  :data:`CASES` index instead: a few fixed, documented size combinations that
  between them cover one and several layers, one and several heads (head size
  1, 2 and 4), d_ff above and below d_model, a single token and a single
  sequence. Each case is compiled once per run; seeds and data vary freely.

d_ff never equals d_model, so that the two FFN projections can be told apart
by shape (see :func:`conformance.oracles_transformer.census`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

LAYER_POOL = (1, 3)        # 3 > 2 tells a shared FFN from a shared attention (when A != F)
D_MODEL_POOL = (4, 8)
HEAD_POOL = (1, 2)          # both divide every d_model in the pool
D_FF_POOL = (6, 16)         # one below and one above every d_model in the pool
BATCH_POOL = (1, 2)
SEQ_POOL = (1, 3)

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

    def __str__(self) -> str:
        return (f"L={self.num_layers}, d_model={self.d_model}, heads={self.num_heads}, "
                f"d_ff={self.d_ff}, input ({self.batch}, {self.seq}, {self.d_model})")


CASES: tuple[Case, ...] = (
    Case(num_layers=1, d_model=4, num_heads=1, d_ff=8, batch=1, seq=1),
    Case(num_layers=2, d_model=4, num_heads=2, d_ff=8, batch=2, seq=3),
    Case(num_layers=3, d_model=8, num_heads=4, d_ff=6, batch=1, seq=3),
)


def cases(min_layers: int = 1) -> st.SearchStrategy[int]:
    """An index into :data:`CASES` (an int, so examples pin easily)."""
    return st.sampled_from([i for i, c in enumerate(CASES) if c.num_layers >= min_layers])


def layer_counts() -> st.SearchStrategy[int]:
    return st.sampled_from(LAYER_POOL)


def d_models() -> st.SearchStrategy[int]:
    return st.sampled_from(D_MODEL_POOL)


def head_counts() -> st.SearchStrategy[int]:
    return st.sampled_from(HEAD_POOL)


def d_ffs() -> st.SearchStrategy[int]:
    return st.sampled_from(D_FF_POOL)


def batches() -> st.SearchStrategy[int]:
    return st.sampled_from(BATCH_POOL)


def seqs() -> st.SearchStrategy[int]:
    return st.sampled_from(SEQ_POOL)


def input_scales() -> st.SearchStrategy[float]:
    """Input magnitudes; a small one makes LayerNorm's eps matter."""
    return st.sampled_from((1.0, 0.1, 10.0))


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
            return {str(k): fill(node[k], str(k)) for k in sorted(node.keys(), key=str)}
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
