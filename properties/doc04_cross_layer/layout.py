"""Where document 04's pieces sit in an implementation's parameter tree.

:func:`census` finds the attention, fc1, fc2 and LayerNorm pieces from their
shapes and Flax's leaf names inside each piece (``kernel``/``bias``,
``scale``/``bias``, and the attention's ``query``/``key``/``value``/``out``),
wherever the implementation nests them and whatever it names its own modules.
:class:`BlockParams` is one block's parameters in the suite's own layout, which
mirrors Flax's modules:

- ``query``/``key``/``value``: kernel (d, H, hd), bias (H, hd) -- Flax
  ``nn.MultiHeadDotProductAttention`` (hd = d / H).
- ``out``: kernel (H, hd, d), bias (d,).
- ``fc1``: kernel (d, d_ff), bias (d_ff,); ``fc2``: kernel (d_ff, d), bias (d,).
- ``norm1``/``norm2``: scale (d,), bias (d,).

Layer slots (:func:`find_layers`) say where each layer's copy of a block sits,
as its own subtree or as one index of a stacked (scanned) subtree.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.kit.oracles import f64
from conformance.kit.trees import flat_shapes, get_path, is_map, map_leaves, multiplicity, set_paths, shape_of, as_dicts


PIECES = ("attention", "fc1", "fc2", "norm")


@dataclass
class Census:
    """Where each piece sits in a parameter tree, and the leaves no piece explains.

    ``found[piece]`` lists ``(path, node, n)``: ``n`` is None for a piece with
    the plain shapes, and an int for ``n`` pieces stacked along a new leading
    axis (``nn.scan``/``nn.vmap`` with ``variable_axes={"params": 0}``).
    """

    found: dict[str, list[tuple[str, Any, int | None]]]
    stray: list[tuple[str, tuple[int, ...]]]

    def count(self, piece: str) -> int:
        return sum(1 if n is None else n for _, _, n in self.found[piece])

    def stacked(self) -> bool:
        return any(n is not None for p in PIECES for _, _, n in self.found[p])

    def summary(self) -> str:
        parts = []
        for p in PIECES:
            stacks = [n for _, _, n in self.found[p] if n is not None]
            parts.append(f"{p} x{self.count(p)}" + (f" (stacked {stacks})" if stacks else ""))
        if self.stray:
            parts.append(f"{len(self.stray)} unexplained leaves ({', '.join(f'{k}{s}' for k, s in self.stray[:4])})")
        return ", ".join(parts)


def piece_patterns(d: int, heads: int, d_ff: int) -> dict[str, dict[str, tuple[int, ...]]]:
    """Flax's leaf names and shapes for each piece (paths relative to the piece)."""
    hd = d // heads
    proj = {"kernel": (d, heads, hd), "bias": (heads, hd)}
    attention = {f"/{n}/{leaf}": shape for n in ("query", "key", "value") for leaf, shape in proj.items()}
    attention.update({"/out/kernel": (heads, hd, d), "/out/bias": (d,)})
    return {
        "attention": attention,
        "fc1": {"/kernel": (d, d_ff), "/bias": (d_ff,)},
        "fc2": {"/kernel": (d_ff, d), "/bias": (d,)},
        "norm": {"/scale": (d,), "/bias": (d,)},
    }


def census(tree: Any, d: int, heads: int, d_ff: int) -> Census:
    """Find every attention, fc1, fc2 and LayerNorm piece in ``tree`` by shape.

    Requires d_ff != d (else fc1 and fc2 look alike). Leaves outside every piece
    are listed in ``stray``.
    """
    if d_ff == d:
        raise ValueError("census needs d_ff != d_model to tell fc1 from fc2")
    patterns = piece_patterns(d, heads, d_ff)
    found: dict[str, list[tuple[str, Any, int | None]]] = {p: [] for p in PIECES}
    stray: list[tuple[str, tuple[int, ...]]] = []

    def walk(node: Any, path: str) -> None:
        for kind, pattern in patterns.items():
            n = multiplicity(node, pattern)
            if n is not None:
                found[kind].append((path, node, None if n is True else n))
                return
        if is_map(node):
            for k in sorted(node.keys(), key=str):
                walk(node[k], f"{path}/{k}")
        else:
            stray.append((path, shape_of(node)))

    walk(tree, "")
    return Census(found, stray)


@dataclass(frozen=True)
class BlockParams:
    """One block's parameters in the suite's layout (float64 copies of float32 values)."""

    query: tuple[np.ndarray, np.ndarray]
    key: tuple[np.ndarray, np.ndarray]
    value: tuple[np.ndarray, np.ndarray]
    out: tuple[np.ndarray, np.ndarray]
    fc1: tuple[np.ndarray, np.ndarray]
    fc2: tuple[np.ndarray, np.ndarray]
    norm1: tuple[np.ndarray, np.ndarray]
    norm2: tuple[np.ndarray, np.ndarray]


def require_block_pieces(c: Census, d: int, heads: int, d_ff: int) -> None:
    """Exactly one attention, one fc1, one fc2 and two LayerNorms, and nothing else (else AssertionError)."""
    want = {"attention": 1, "fc1": 1, "fc2": 1, "norm": 2}
    if any(c.count(p) != n for p, n in want.items()) or c.stray or c.stacked():
        raise AssertionError(
            f"TransformerBlock params hold {c.summary()}; expected exactly one "
            f"nn.MultiHeadDotProductAttention-shaped piece (query/key/value kernels ({d}, {heads}, {d // heads}), "
            f"out kernel ({heads}, {d // heads}, {d}), all with biases), Dense ({d}->{d_ff}) and ({d_ff}->{d}) "
            f"with biases, two LayerNorms (scale, bias of ({d},)), and nothing else")


def block_layouts(tree: Any, d: int, heads: int, d_ff: int) -> list[BlockParams]:
    """The block's parameters read from one block's tree.

    The tree must hold exactly one attention, one fc1, one fc2 and two
    LayerNorms and nothing else (raises AssertionError otherwise). The two
    LayerNorms have the same shapes, so both assignments are returned; a
    conforming block matches one of them.
    """
    c = census(tree, d, heads, d_ff)
    require_block_pieces(c, d, heads, d_ff)

    def kb(node: Any, a: str = "kernel", b: str = "bias") -> tuple[np.ndarray, np.ndarray]:
        return f64(node[a]), f64(node[b])

    att = c.found["attention"][0][1]
    norms = [kb(n, "scale") for _, n, _ in c.found["norm"]]
    common = dict(query=kb(att["query"]), key=kb(att["key"]), value=kb(att["value"]), out=kb(att["out"]),
                  fc1=kb(c.found["fc1"][0][1]), fc2=kb(c.found["fc2"][0][1]))
    return [BlockParams(**common, norm1=n1, norm2=n2) for n1, n2 in itertools.permutations(norms)]


def find_layers(tree: Any, like: Any) -> list[tuple[str, int | None]]:
    """Where the copies of a block shaped like ``like`` sit in ``tree``, one entry per layer.

    A subtree with ``like``'s keys and shapes is one layer ``(path, None)``; a
    subtree with its keys and every shape prefixed by the same n holds n layers
    stacked on axis 0, ``(path, 0) ... (path, n-1)``. Subtrees are searched
    outermost first and not inside a match.
    """
    pattern = flat_shapes(like)
    slots: list[tuple[str, int | None]] = []

    def walk(node: Any, path: str) -> None:
        n = multiplicity(node, pattern)
        if n is True:
            slots.append((path, None))
        elif n is not None:
            slots.extend((path, i) for i in range(n))
        elif is_map(node):
            for k in sorted(node.keys(), key=str):
                walk(node[k], f"{path}/{k}")

    walk(tree, "")
    return slots


def get_layer(tree: Any, slot: tuple[str, int | None]) -> Any:
    node = get_path(tree, slot[0])
    if slot[1] is None:
        return node
    return map_leaves(lambda a: np.asarray(a)[slot[1]], node)


def place_layers(tree: Any, slots: list[tuple[str, int | None]], value: Any) -> Any:
    """A copy of ``tree`` with ``value`` (one block's params) in every slot."""
    out = as_dicts(tree)
    by_path: dict[str, int] = {}
    for path, index in slots:
        by_path[path] = by_path.get(path, 0) + (index is not None)
    for path, n in by_path.items():
        block = value if n == 0 else map_leaves(lambda a, n=n: np.stack([np.asarray(a)] * n), value)
        out = set_paths(out, [path], block)
    return out
