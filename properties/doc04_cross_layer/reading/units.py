"""Where document 04's pieces sit in an implementation's parameter tree, read from shapes alone.

Nothing here trusts a module name. A *unit* is the set of leaves of one node
(what a Flax ``Dense``, ``DenseGeneral`` or ``LayerNorm`` owns, whatever it is
called and however deeply it is nested):

- a dense unit holds one kernel (ndim >= 2) and one bias shaped like the
  kernel's trailing axes; the split between the two gives its widths
  ``in = prod(kernel.shape[:k])``, ``out = prod(kernel.shape[k:])``, so
  ``(d, d)``, ``(d, H, hd)``, ``(H, hd, d)`` and a fused ``(d, 3d)`` are all
  read as (in, out) matrices, as Flax stores them;
- a norm unit holds two leaves of shape ``(d,)`` (scale and bias, which
  :mod:`.roles` tells apart);
- anything else is stray.

:func:`block_structure` sorts one block's units into document 04's pieces by
width: fc1 is the (d -> d_ff) unit, fc2 the (d_ff -> d) unit, attention the
(d -> d) and (d -> 3d) units. Which projection is q, k, v or out, and which
norm is LN1, is behaviour, not shape: :mod:`.roles` finds that out.

:class:`Ref` points at a leaf, or at some output columns of one, read as an
(in, out) matrix: how the rest of :mod:`..reading` reads and writes a piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.kit.trees import flat_shapes, get_path, set_paths

PIECES = ("attention", "fc1", "fc2", "norm")


class LayoutUnreadable(Exception):
    """The suite could not tell which of an implementation's parameters is which piece of the block.

    Not a failed claim: the verdict is ``error``, and the message says how to
    name the pieces with ``PARAM_ROLES``.
    """

    def __init__(self, what: str, detail: str):
        super().__init__(
            f"the suite could not read the parameter layout of {what}: {detail}. This is not a verdict on the "
            f"maths: export PARAM_ROLES from the implementation module to say which leaf is which (README, "
            f"'Plugging in a third-party model')"
        )


# --- references to leaves, or to columns of them ------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A leaf read as an (in, out) matrix (``split`` leading axes are 'in'), or as a flat vector
    (``split=0``), optionally only the output columns ``cols`` (a fused projection's slice), and for
    layers stacked along a leading axis (``nn.scan``) only the slice ``index`` of that axis."""

    path: str
    split: int = 0
    cols: tuple[int, ...] | None = None
    note: str = ""
    index: int | None = None

    def __str__(self) -> str:
        where = self.path if self.index is None else f"{self.path}[{self.index}]"
        return where if self.cols is None else f"{where}[{self.note or 'columns'}]"

    def _matrix(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(int(np.prod(a.shape[: self.split], dtype=np.int64)), -1) if self.split else a.reshape(1, -1)

    def read(self, tree: Any) -> np.ndarray:
        """float64 (in, out) matrix, or a vector for ``split=0``."""
        a = np.asarray(get_path(tree, self.path), np.float64)
        m = self._matrix(a if self.index is None else a[self.index])
        if self.cols is not None:
            m = m[:, list(self.cols)]
        return m if self.split else m.reshape(-1)

    def write(self, tree: Any, value: Any) -> Any:
        """A copy of ``tree`` with ``value`` (float32) at this leaf, its slice or its columns."""
        leaf = get_path(tree, self.path)
        keep = self.cols is not None or self.index is not None  # the rest of the leaf stays as it is
        full = np.array(leaf, np.float32) if keep else np.zeros(np.shape(leaf), np.float32)
        part = full if self.index is None else full[self.index]
        m = self._matrix(part).copy()
        cols = slice(None) if self.cols is None else list(self.cols)
        v = np.asarray(value, np.float32)
        m[:, cols] = v if v.ndim == 0 else v.reshape(m.shape[0], -1)
        part[...] = m.reshape(part.shape)
        return set_paths(tree, [self.path], full)


# --- units ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """The leaves of one node: ``leaves`` maps leaf name to shape (the unit's signature)."""

    path: str
    leaves: tuple[tuple[str, tuple[int, ...]], ...]
    kind: str = "other"  # "dense", "norm" or "other"
    kernel: Ref | None = None
    bias: Ref | None = None
    n_in: int = 0
    n_out: int = 0

    def leaf(self, name: str) -> str:
        return f"{self.path}/{name}"

    def names(self) -> list[str]:
        return [self.leaf(n) for n, _ in self.leaves]


def _dense(path: str, leaves: dict[str, tuple[int, ...]]) -> Unit | None:
    if len(leaves) != 2:
        return None
    for kn, bn in (tuple(leaves), tuple(leaves)[::-1]):
        ks, bs = leaves[kn], leaves[bn]
        if len(ks) >= 2 and 1 <= len(bs) < len(ks) and ks[len(ks) - len(bs) :] == bs:
            k = len(ks) - len(bs)
            return Unit(
                path,
                tuple(sorted(leaves.items())),
                "dense",
                Ref(f"{path}/{kn}", k),
                Ref(f"{path}/{bn}"),
                int(np.prod(ks[:k])),
                int(np.prod(bs)),
            )
    return None


def units(tree: Any, width: int | None = None) -> list[Unit]:
    """Every unit of ``tree``; with ``width``, two ``(width,)`` leaves make a norm unit."""
    by_parent: dict[str, dict[str, tuple[int, ...]]] = {}
    for path, shape in flat_shapes(tree).items():
        parent, _, name = path.rpartition("/")
        by_parent.setdefault(parent, {})[name] = shape
    out = []
    for parent in sorted(by_parent):
        leaves = by_parent[parent]
        unit = _dense(parent, leaves)
        if unit is None and width is not None and len(leaves) == 2 and all(s == (width,) for s in leaves.values()):
            unit = Unit(parent, tuple(sorted(leaves.items())), "norm", n_in=width, n_out=width)
        out.append(unit or Unit(parent, tuple(sorted(leaves.items()))))
    return out


@dataclass(frozen=True)
class BlockStructure:
    """One block's units sorted into pieces by width."""

    attention: tuple[Unit, ...]  # four (d -> d) units, or one (d -> 3d) and one (d -> d)
    fc1: Unit
    fc2: Unit
    norms: tuple[Unit, Unit]


def summary(found: list[Unit], d: int, d_ff: int) -> str:
    def name(u: Unit) -> str:
        if u.kind == "dense":
            return f"{u.path} ({u.n_in}->{u.n_out})"
        return f"{u.path} ({u.kind}: {', '.join(f'{n}{s}' for n, s in u.leaves)})"

    return "; ".join(name(u) for u in found) + f" (d_model={d}, d_ff={d_ff})"


def block_structure(tree: Any, d: int, heads: int, d_ff: int, what: str) -> BlockStructure:
    """The block's pieces by width; :class:`LayoutUnreadable` if its units do not sort into them."""
    if d_ff in (d, 3 * d):
        raise ValueError(f"d_ff={d_ff} cannot be told from attention widths by shape (d_model={d})")
    found = units(tree, d)
    by = {"fc1": [], "fc2": [], "plain": [], "fused": [], "norm": [], "stray": []}
    for u in found:
        key = {(d, d_ff): "fc1", (d_ff, d): "fc2", (d, d): "plain", (d, 3 * d): "fused"}.get((u.n_in, u.n_out), "stray")
        by["norm" if u.kind == "norm" else key if u.kind == "dense" else "stray"].append(u)
    attention_ok = (len(by["plain"]), len(by["fused"])) in ((4, 0), (1, 1))
    if by["stray"] or not attention_ok or len(by["fc1"]) != 1 or len(by["fc2"]) != 1 or len(by["norm"]) != 2:
        raise LayoutUnreadable(
            what,
            "its parameters do not sort by shape into four (d->d) attention projections "
            "(or one fused (d->3d) and one (d->d)) with biases, a (d->d_ff) and a (d_ff->d) Dense "
            f"with biases and two LayerNorms of two (d,) leaves; found {summary(found, d, d_ff)}",
        )
    return BlockStructure(tuple(by["fused"] + by["plain"]), by["fc1"][0], by["fc2"][0], tuple(by["norm"]))
