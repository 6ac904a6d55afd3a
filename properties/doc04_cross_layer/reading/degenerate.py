"""Reading a block of width 1, where nothing can be probed: read the same class at width 4 and map by path.

At d_model 1 a LayerNorm's input minus its mean is 0, so every LayerNorm
outputs its bias and nothing before it matters: the behaviour probes see no
attention, no FFN and no order of layers. The implementation's parameter tree
has the same paths at width 4, where the probes work, so the roles and layers
found there are carried over path for path; a fused projection's columns are
recomputed for width 1 from the convention found at width 4. The properties
still hold the width-1 model to the oracle, which at this width is the last
LayerNorm's bias.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from conformance.kit.trees import flat_shapes

from .roles import BlockRoles
from .stack import Piece, Stack
from .units import LayoutUnreadable, Ref

QKV = {"q": 0, "k": 1, "v": 2}


def companion(dims: tuple[int, int, int]) -> tuple[int, int, int]:
    """The block sizes at which a width-1 block is read: d_model 4, one head, a d_ff that is neither 4 nor 12.

    Not width 2: a LayerNorm of two elements returns +-1 whatever they are, so no gradient passes it and
    the probes see nothing behind it, as at width 1.
    """
    _, _, d_ff = dims
    return 4, 1, next(f for f in range(d_ff, d_ff + 3) if f not in (4, 12))


def _ref(ref: Ref, role: str, d_model: int) -> Ref:
    if ref.cols is None:
        return ref
    # A fused (d, 3d) projection at one head: q, k and v are three blocks of d columns either way.
    i = QKV[role.split(".")[0]]
    return dataclasses.replace(ref, cols=tuple(range(i * d_model, (i + 1) * d_model)))


def _check(refs: list[Ref], shapes: Any, what: str) -> None:
    have = flat_shapes(shapes)
    missing = sorted({r.path for r in refs if r.path not in have})
    if missing:
        raise LayoutUnreadable(
            what, f"read at d_model 2 (nothing can be probed at d_model 1), but the width-1 model has no {missing[:3]}"
        )


def block_roles(found: BlockRoles, dims: tuple[int, int, int], shapes: Any, what: str) -> BlockRoles:
    """The roles read at :func:`companion` sizes, for the width-1 block whose abstract params are ``shapes``."""
    refs = {role: _ref(ref, role, dims[0]) for role, ref in found.refs.items()}
    _check(list(refs.values()), shapes, what)
    note = "read at d_model 2 and mapped by path: at d_model 1 every LayerNorm outputs its bias"
    return BlockRoles(dims, refs, found.source, found.ln_order_known, (*found.evidence, note))


def stack(found: Stack, dims: tuple[int, int, int], shapes: Any, what: str) -> Stack:
    """The layers read at :func:`companion` sizes, for the width-1 model whose abstract params are ``shapes``."""

    def piece(p: Piece) -> Piece:
        return dataclasses.replace(p, refs=tuple((role, _ref(ref, role, dims[0])) for role, ref in p.refs))

    layers = tuple(
        dataclasses.replace(layer, **{k: piece(p) for k, p in layer.pieces().items()}) for layer in found.layers
    )
    _check([ref for layer in layers for ref in layer.refs().values()], shapes, what)
    return Stack(dims, layers)
