"""Assertions whose messages carry what was expected, what came back, and the tolerance.

These raise ``AssertionError`` (verdict ``failed``). The harness adds the
property id, the document section, the shrunk inputs and a reproduce command.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.kit.tolerances import Tolerance


def _fmt(a: np.ndarray, limit: int = 8) -> str:
    flat = np.asarray(a).reshape(-1)
    body = np.array2string(flat[:limit], precision=6, separator=", ", max_line_width=200)
    return body if flat.size <= limit else f"{body[:-1]}, ...] ({flat.size} values)"


def as_output(value: Any, *, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Check that ``value`` is a finite floating-point array of ``shape``; return it as NumPy."""
    import jax

    if not isinstance(value, (jax.Array, np.ndarray)):
        raise AssertionError(f"{what} returned {type(value).__name__}, expected a jax or numpy array")
    arr = np.asarray(value)
    if shape is not None and arr.shape != tuple(shape):
        raise AssertionError(f"{what} returned shape {arr.shape}, expected {tuple(shape)}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise AssertionError(f"{what} returned dtype {arr.dtype}, expected a floating-point dtype")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(arr[idx]) else "inf"
        raise AssertionError(
            f"{what} returned {kind} at index {idx} ({int(bad.sum())} non-finite values of {arr.size})"
        )
    return arr


@dataclass
class ToleranceAudit:
    """How loose the tolerances of one property's comparisons were: max bound / the scale a comparison is
    judged against (max |expected|, or what its terms would give uncancelled where they cancelled).

    A tolerance close to the values it guards would let a wrong model pass; the
    benchmark prints the worst ratio of every numeric property.
    """

    worst_ratio: float = 0.0
    comparisons: int = 0
    worst_at: str = ""  # the comparison that set worst_ratio: what it compared, its shape and magnitude


AUDIT = ToleranceAudit()


def reset_audit() -> ToleranceAudit:
    global AUDIT
    AUDIT = ToleranceAudit()
    return AUDIT


def assert_close(actual: Any, expected: Any, tol: Tolerance, *, what: str, scale: float | None = None) -> None:
    """Elementwise |actual - expected| <= tol.bound.

    ``scale`` is the magnitude the tolerance is judged against in the audit (default: max|expected|, or the
    tolerance's ``magnitude`` where the result has cancelled below it): a normwise bound over several
    arrays is judged against their common magnitude, not each array's.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape}, expected {e.shape}")
    diff = np.abs(a - e)
    bound = np.asarray(tol.bound, dtype=np.float64)
    # Bounds are computed in the oracle's layout; a flattened result compares element for element.
    bound = bound.reshape(diff.shape) if bound.size == diff.size else np.broadcast_to(bound, diff.shape)
    largest = float(np.abs(e).max(initial=0.0))
    if scale is None:  # a result that is exactly zero (a relu's) says nothing of its terms: not judged
        scale = max(largest, tol.magnitude or 0.0) if largest > 0 else 0.0
    scale = float(scale)
    if scale > 0:
        AUDIT.comparisons += 1
        ratio = float(bound.max(initial=0.0)) / scale
        if ratio > AUDIT.worst_ratio:
            AUDIT.worst_ratio = ratio
            AUDIT.worst_at = f"{what}, shape {e.shape}, judged against {scale:.3g} (max|expected| {largest:.3g})"
    excess = diff - bound
    if (excess > 0).any():
        i = np.unravel_index(int(np.argmax(excess)), diff.shape)
        raise AssertionError(
            f"{what} differs from the oracle at {int((excess > 0).sum())} of {diff.size} positions; "
            f"worst at index {tuple(int(v) for v in i)}: actual {a[i]:.9g}, expected {e[i]:.9g}, "
            f"|diff| {diff[i]:.3g} > bound {bound[i]:.3g}\n"
            f"  expected: {_fmt(e)}\n  actual:   {_fmt(a)}\n  tolerance: {tol.describe()}"
        )


def assert_equal_arrays(actual: Any, expected: Any, *, what: str) -> None:
    """Bitwise equality, for results that must be the same computation."""
    a, e = np.asarray(actual), np.asarray(expected)
    if a.shape != e.shape or not np.array_equal(a, e):
        detail = (
            f"shape {a.shape} vs {e.shape}"
            if a.shape != e.shape
            else f"{int((a != e).sum())} of {a.size} values differ"
        )
        raise AssertionError(
            f"{what}: not identical ({detail})\n  expected: {_fmt(e)}\n  actual:   {_fmt(a)}\n  tolerance: exact"
        )


def assert_keys(actual: Iterable[str], expected: Iterable[str], *, what: str) -> None:
    a, e = sorted(map(str, actual)), sorted(map(str, expected))
    if a != e:
        raise AssertionError(f"{what}: keys {a}, expected exactly {e}")


def tree_shapes(tree: Any) -> Any:
    import jax

    return jax.tree_util.tree_map(lambda v: tuple(np.shape(v)), tree)


def assert_tree_shapes(tree: Any, expected: dict, *, what: str) -> None:
    """The pytree's structure and leaf shapes equal ``expected`` (nested dicts of shapes).

    chex compares the trees and names the leaf whose shape differs; both trees
    follow in full.
    """
    import chex
    import jax

    want = jax.tree_util.tree_map(
        lambda shape: jax.ShapeDtypeStruct(shape, np.float32), expected, is_leaf=lambda node: isinstance(node, tuple)
    )
    got = _plain(tree)
    try:
        chex.assert_trees_all_equal_shapes(got, want)
    except AssertionError as exc:
        found = " ".join(str(exc).removeprefix("[Chex] ").split())
        raise AssertionError(f"{what}: {found}\n  params {_plain(tree_shapes(tree))}, expected {expected}") from None


def _plain(tree: Any) -> Any:
    if hasattr(tree, "items"):
        return {str(k): _plain(v) for k, v in tree.items()}
    return tree


def dig(tree: Any, *path: str, what: str) -> Any:
    """``tree[path[0]][path[1]]...``, failing with the keys that do exist."""
    node = tree
    for depth, key in enumerate(path):
        try:
            node = node[key]
        except (KeyError, TypeError, IndexError):
            have = sorted(map(str, node.keys())) if hasattr(node, "keys") else type(node).__name__
            where = "".join(f"[{k!r}]" for k in path[:depth])
            raise AssertionError(f"{what}: no {key!r} under {where or 'the root'} (found {have})") from None
    return node


def assert_raises(
    expected: type[BaseException] | tuple[type[BaseException], ...], fn: Any, *, what: str
) -> BaseException:
    """``fn()`` raises ``expected``; anything else (or nothing) fails the claim."""
    try:
        fn()
    except expected as exc:
        return exc
    except Exception as exc:
        names = getattr(expected, "__name__", None) or " or ".join(e.__name__ for e in expected)
        raise AssertionError(f"{what}: raised {type(exc).__name__}: {str(exc)[:200]}, expected {names}") from exc
    names = getattr(expected, "__name__", None) or " or ".join(e.__name__ for e in expected)
    raise AssertionError(f"{what}: did not raise, expected {names}")
