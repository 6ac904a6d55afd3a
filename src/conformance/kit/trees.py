"""Reading and editing nested parameter trees (dicts, FrozenDicts, nnx State) by '/'-joined paths.

Properties locate an implementation's pieces by shape and role, never by its
module names, so paths are built from whatever keys the implementation chose.
A path segment is a key's string form; keys keep their own type in every tree
built or edited here (an ``nnx.List`` handed over through ``nnx.bridge`` keys
its layers by int, and Flax looks them up by int).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np


def is_map(node: Any) -> bool:
    return hasattr(node, "keys") and hasattr(node, "__getitem__")


def shape_of(v: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in np.shape(v))


def flat_shapes(node: Any, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """Every leaf's shape, by its path below ``node``."""
    if is_map(node):
        out: dict[str, tuple[int, ...]] = {}
        for k in node.keys():
            out.update(flat_shapes(node[k], f"{prefix}/{k}"))
        return out
    return {prefix: shape_of(node)}


def multiplicity(node: Any, pattern: dict[str, tuple[int, ...]]) -> int | bool | None:
    """True if ``node``'s leaves have exactly ``pattern``'s paths and shapes; n if every shape has an
    extra leading axis of the same length n (n copies stacked); None otherwise."""
    if not is_map(node):
        return None
    shapes = flat_shapes(node)
    if shapes.keys() != pattern.keys():
        return None
    if shapes == pattern:
        return True
    leads = {
        shapes[k][0] if len(shapes[k]) == len(pattern[k]) + 1 and shapes[k][1:] == pattern[k] else None for k in pattern
    }
    return leads.pop() if len(leads) == 1 and None not in leads else None


def map_leaves(fn: Any, node: Any) -> Any:
    """``fn`` of every leaf, in nested dicts with the tree's own keys."""
    if is_map(node):
        return {k: map_leaves(fn, node[k]) for k in node.keys()}
    return fn(node)


def as_dicts(tree: Any) -> Any:
    """The tree as nested dicts (a copy of its structure), keys as they were."""
    return map_leaves(lambda leaf: leaf, tree)


def child_key(node: Any, segment: str) -> Any:
    """The key of ``node`` that a path segment names: itself, or the key whose string form it is."""
    if segment in node.keys():
        return segment
    for k in node.keys():
        if str(k) == segment:
            return k
    raise KeyError(f"no key {segment!r} (keys: {', '.join(map(str, node.keys()))})")


def get_path(tree: Any, path: str) -> Any:
    node = tree
    for segment in filter(None, path.split("/")):
        node = node[child_key(node, segment)]
    return node


def set_paths(tree: Any, paths: list[str], value: Any) -> Any:
    """A copy of ``tree`` (as nested dicts) with ``value`` placed at each of ``paths``."""
    out = as_dicts(tree)
    for path in paths:
        keys = [k for k in path.split("/") if k]
        if not keys:
            return value
        node = out
        for k in keys[:-1]:
            node = node[child_key(node, k)]
        node[child_key(node, keys[-1])] = value
    return out


def count_parameters(tree: Any) -> tuple[int, int]:
    """(number of scalars, bytes) in a tree of arrays or ShapeDtypeStructs."""
    sizes = [
        (int(np.prod(np.shape(leaf), dtype=np.int64)), np.dtype(leaf.dtype).itemsize)
        for leaf in jax.tree_util.tree_leaves(tree)
    ]
    return sum(n for n, _ in sizes), sum(n * itemsize for n, itemsize in sizes)
