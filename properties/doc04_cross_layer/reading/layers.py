"""Layer slots: where each layer's copy of a block sits in a model's parameter tree."""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.kit.trees import as_dicts, flat_shapes, get_path, is_map, map_leaves, multiplicity, set_paths


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
