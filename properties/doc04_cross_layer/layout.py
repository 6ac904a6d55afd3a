"""An implementation's block layout as the properties use it: its parameter count checked, then read.

:mod:`.reading` finds which leaf is which piece; this module first holds the
block to the document's parameter count (a block with missing or extra
parameters fails that claim outright, rather than being misread), and gives the
reader the float64 oracle it uses to settle a fused projection's columns.
"""

from __future__ import annotations

from typing import Any

from conformance.kit.trees import count_parameters

from . import calls, reading
from .numerics import oracles, param_counts
from .reading import degenerate


def checked_shapes(impl, dims: tuple[int, int, int]) -> Any:
    """The block's abstract params; AssertionError if it does not hold the document's A+F+2N parameters."""
    d, _, d_ff = dims
    shapes = calls.param_shapes(impl, "TransformerBlock", dims)
    n, want = count_parameters(shapes)[0], param_counts.block_params(d, d_ff)
    if n != want:
        raise AssertionError(
            f"{calls.describe('TransformerBlock', dims)} holds {n:,} parameters, the document's block "
            f"A+F+2N = {want:,} ({param_counts.formula_note(d, d_ff)}), so they cannot be its pieces"
        )
    return shapes


def block_roles(impl, dims: tuple[int, int, int]) -> reading.BlockRoles:
    """Where each of the block's 16 roles sits (see :mod:`.reading.roles`; width 1: :mod:`.reading.degenerate`)."""
    dims = tuple(int(v) for v in dims)
    shapes = checked_shapes(impl, dims)
    if dims[0] == 1 and impl.option("PARAM_ROLES") is None:
        found = block_roles(impl, degenerate.companion(dims))
        return degenerate.block_roles(found, dims, shapes, calls.describe("TransformerBlock", dims))
    return reading.block_roles(impl, dims, oracles.block)


def block_signatures(impl, dims: tuple[int, int, int]) -> reading.Signatures:
    """What each piece of the block looks like, for counting pieces in models (see :mod:`.reading.pieces`)."""
    checked_shapes(impl, dims)
    return reading.block_signatures(impl, dims)


def model_stack(
    impl, export: str, args: tuple, share: str | None = None, x_shape: tuple | None = None
) -> reading.Stack:
    """The layers of ``export(*args)`` in the order it runs them (see :mod:`.reading.stack`), probed on inputs of
    ``x_shape``."""
    args = tuple(int(a) for a in args)
    # Which layer runs which piece is read by behaviour even where PARAM_ROLES names the block's roles, and at
    # width 1 no behaviour can be seen: a stack is always read at the companion width.
    if args[1] == 1:
        wider = (args[0], *degenerate.companion(args[1:]))
        found = model_stack(impl, export, wider, share, None if x_shape is None else (*x_shape[:-1], wider[1]))
        shapes = calls.param_shapes(impl, export, args, share)
        return degenerate.stack(found, args[1:], shapes, calls.describe(export, args, share))
    return reading.read_stack(impl, export, args, share, block_roles(impl, args[1:]), x_shape)
