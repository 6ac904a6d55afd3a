"""Counting document 04's pieces (attention, fc1, fc2, LayerNorm) in a whole model.

The implementation's own block teaches the suite what each piece looks like:
a unit's signature is its leaves' names and shapes (``kernel``/``bias``,
``scale``/``bias``, or whatever the implementation's modules call them), never
the module names above it. A model's units are matched against those
signatures, each once or stacked n times along a new leading axis
(``nn.scan`` with ``variable_axes={"params": 0}``); a piece made of several
units (four projections, or a fused one and out) counts once per whole set.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any

from conformance.kit.memo import remembered

from .. import calls
from .param_roles import declared_refs
from .units import PIECES, LayoutUnreadable, block_structure, units

PIECE_OF_ROLE = {
    "q": "attention",
    "k": "attention",
    "v": "attention",
    "o": "attention",
    "fc1": "fc1",
    "fc2": "fc2",
    "ln1": "norm",
    "ln2": "norm",
}


@dataclass(frozen=True)
class Signatures:
    """piece -> {unit signature: units of that signature in one piece}."""

    by_piece: dict[str, dict[tuple, int]]

    def piece(self, sig: tuple) -> str | None:
        return next((p for p, sigs in self.by_piece.items() if sig in sigs), None)


def _from_units(per_piece: dict[str, list]) -> Signatures:
    out = {}
    for piece, found in per_piece.items():
        # A block holds two LayerNorms, one unit each: every norm unit is a piece of its own.
        out[piece] = dict.fromkeys(found, 1) if piece == "norm" else dict(collections.Counter(found))
    return Signatures(out)


def _signatures(impl, dims: tuple[int, int, int]) -> Signatures:
    what = calls.describe("TransformerBlock", dims)
    shapes = calls.param_shapes(impl, "TransformerBlock", dims)
    declared = impl.option("PARAM_ROLES")
    if declared is None:
        st = block_structure(shapes, *dims, what)
        return _from_units(
            {
                "attention": [u.leaves for u in st.attention],
                "fc1": [st.fc1.leaves],
                "fc2": [st.fc2.leaves],
                "norm": [u.leaves for u in st.norms],
            }
        )
    by_path = {u.path: u for u in units(shapes)}
    owner: dict[str, set[str]] = {}
    for role, ref in declared_refs(impl, declared, shapes, dims, what).items():
        owner.setdefault(ref.path.rpartition("/")[0], set()).add(PIECE_OF_ROLE[role.split(".")[0]])
    mixed = {p: sorted(s) for p, s in owner.items() if len(s) > 1}
    if mixed:
        raise LayoutUnreadable(
            what,
            f"PARAM_ROLES puts leaves of several pieces in one module ({mixed}); the "
            f"suite counts a model's pieces module by module",
        )
    per_piece: dict[str, list] = {p: [] for p in PIECES}
    for path, (piece,) in owner.items():
        per_piece[piece].append(by_path[path].leaves)
    return _from_units(per_piece)


_FOUND: dict[tuple, Signatures | Exception] = {}


def block_signatures(impl, dims: tuple[int, int, int]) -> Signatures:
    """What each piece of ``impl``'s block looks like at these sizes (cached per block class, PARAM_ROLES and sizes)."""
    dims = tuple(int(v) for v in dims)
    key = (impl.get("TransformerBlock"), id(impl.option("PARAM_ROLES")), dims)
    return remembered(_FOUND, key, lambda: _signatures(impl, dims))


def count_pieces(tree: Any, sigs: Signatures) -> tuple[dict[str, int | None], list[str]]:
    """Pieces in ``tree`` (None where a piece's units do not come in whole sets), and leaves no piece explains."""
    found: dict[str, collections.Counter] = {p: collections.Counter() for p in PIECES}
    stray: list[str] = []
    for u in units(tree):
        sig, n = u.leaves, 1
        if sigs.piece(sig) is None:  # stacked along a new leading axis?
            leads = {shape[0] if shape else None for _, shape in u.leaves}
            if len(leads) == 1 and None not in leads:
                n = leads.pop()
                sig = tuple((name, shape[1:]) for name, shape in u.leaves)
        piece = sigs.piece(sig)
        if piece is None:
            stray += [f"{path}{dict(u.leaves)[path.rpartition('/')[2]]}" for path in u.names()]
            continue
        found[piece][sig] += n
    out: dict[str, int | None] = {}
    for piece, per in sigs.by_piece.items():
        if piece == "norm":
            out[piece] = sum(found[piece].values())
            continue
        whole = {found[piece][sig] / k for sig, k in per.items()}
        out[piece] = int(next(iter(whole))) if len(whole) == 1 and float(next(iter(whole))).is_integer() else None
    return out, stray
