"""Reading document 04's pieces out of an implementation's parameters, whatever its layout.

Shapes sort a block's leaves into units (:mod:`.units`), behaviour probes say
which projection and which LayerNorm is which (:mod:`.roles`), or the
implementation says so itself (:mod:`.param_roles`); a model's pieces are
counted against its own block's (:mod:`.pieces`), its layers found by the
block's shapes (:mod:`.layers`), and the order it runs them in found by
behaviour (:mod:`.stack`). What comes out is the suite's own layout,
:class:`..params.BlockParams`.

This package reads; it computes no expected values. It does not import
:mod:`..numerics`: where it needs the oracle (to settle which column convention
a fused projection uses) it takes one as an argument.
"""

from .layers import find_layers, get_layer, place_layers
from .param_roles import ROLES
from .pieces import Signatures, block_signatures, count_pieces
from .roles import BlockRoles, Oracle, block_roles
from .stack import Layer, Piece, Stack, natural_key, read_stack
from .units import PIECES, LayoutUnreadable, block_structure

__all__ = [
    "PIECES",
    "ROLES",
    "BlockRoles",
    "Layer",
    "LayoutUnreadable",
    "Oracle",
    "Piece",
    "Signatures",
    "Stack",
    "block_roles",
    "block_signatures",
    "block_structure",
    "count_pieces",
    "find_layers",
    "get_layer",
    "natural_key",
    "place_layers",
    "read_stack",
]
