"""``PARAM_ROLES``: an implementation says which leaf of its block's params plays which role.

The hook is optional, for layouts the suite cannot read from shapes and
behaviour (:mod:`.roles`). It is a dict, or a function ``(d_model, num_heads,
d_ff) -> dict``, from each of the 16 :data:`ROLES` to a leaf of
``TransformerBlock``'s ``params``:

- ``"attention/query/kernel"``: the whole leaf ('/'-separated keys);
- ``("attention/qkv/kernel", cols)``: only the output columns ``cols`` (a
  ``slice`` or a sequence of ints) of a leaf read as an (in, out) matrix, for a
  fused projection.

Kernels are (inputs, outputs) as Flax stores them, their leading axes the
inputs (``(d, H, hd)`` and ``(H, hd, d)`` are fine); q, k, v columns are read
head-major (column ``h*hd + j`` is feature j of head h), and so are the out
kernel's rows. The suite still checks the maths: a hook changes where it
looks, never what it expects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from conformance.kit.trees import flat_shapes

from .units import LayoutUnreadable, Ref

ATTENTION_ROLES = ("q", "k", "v", "o")
ROLES = tuple(f"{p}.{leaf}" for p in ATTENTION_ROLES + ("fc1", "fc2") for leaf in ("kernel", "bias")) + tuple(
    f"{n}.{leaf}" for n in ("ln1", "ln2") for leaf in ("scale", "bias")
)


def widths(role: str, d: int, d_ff: int) -> tuple[int, int]:
    """(in, out) of a role's kernel, or (0, length) of a vector role."""
    piece, leaf = role.split(".")
    n_in, n_out = {"fc1": (d, d_ff), "fc2": (d_ff, d)}.get(piece, (d, d))
    return (n_in, n_out) if leaf == "kernel" else (0, n_out)


def _split(shape: tuple[int, ...], n_in: int) -> int | None:
    for k in range(1, len(shape)):
        if int(np.prod(shape[:k])) == n_in:
            return k
    return None


def _columns(cols: Any, total: int) -> tuple[int, ...]:
    if isinstance(cols, slice):
        return tuple(range(total))[cols]
    if isinstance(cols, Sequence) and all(isinstance(c, (int, np.integer)) for c in cols):
        return tuple(int(c) for c in cols)
    raise TypeError(f"columns must be a slice or a sequence of ints, got {cols!r}")


def _ref(role: str, where: Any, flat: dict[str, tuple[int, ...]], d: int, d_ff: int) -> Ref:
    if isinstance(where, str):
        path, cols = where, None
    elif isinstance(where, Sequence) and len(where) == 2 and isinstance(where[0], str):
        path, cols = where
    else:
        raise ValueError(f"{role}: expected 'path/to/leaf' or ('path/to/leaf', columns), got {where!r}")
    path = "/" + path.strip("/")
    if path not in flat:
        raise ValueError(f"{role}: no leaf {path!r} in the block's params (leaves: {', '.join(sorted(flat)[:8])} ...)")
    shape = flat[path]
    n_in, n_out = widths(role, d, d_ff)
    split = _split(shape, n_in) if n_in else 0
    if split is None:
        raise ValueError(f"{role}: leaf {path} of shape {shape} has no leading axes of total size {n_in}")
    total = int(np.prod(shape[split:])) if split else int(np.prod(shape))
    chosen = None if cols is None else _columns(cols, total)
    got = total if chosen is None else len(chosen)
    if got != n_out or (chosen is not None and not all(0 <= c < total for c in chosen)):
        raise ValueError(
            f"{role}: {path}{'' if chosen is None else ' (the columns given)'} has {got} outputs, expected {n_out}"
        )
    return Ref(path, split, chosen, "columns given by PARAM_ROLES" if chosen is not None else "")


def declared_refs(impl, hook: Any, shapes: Any, dims: tuple[int, int, int], what: str) -> dict[str, Ref]:
    """The roles ``hook`` names, checked against the block's leaves and widths."""
    d, _, d_ff = dims
    if callable(hook):
        with impl.running(f"PARAM_ROLES{dims}"):
            spec = hook(*dims)
    else:
        spec = hook
    if not isinstance(spec, Mapping):
        raise LayoutUnreadable(
            what, f"PARAM_ROLES must be a dict (or a function returning one), got {type(spec).__name__}"
        )
    missing = [r for r in ROLES if r not in spec]
    unknown = [str(r) for r in spec if r not in ROLES]
    if missing or unknown:
        raise LayoutUnreadable(
            what,
            f"PARAM_ROLES must name exactly the roles {', '.join(ROLES)}; missing "
            f"{missing or 'none'}, unknown {unknown or 'none'}",
        )
    flat = flat_shapes(shapes)
    try:
        refs = {role: _ref(role, spec[role], flat, d, d_ff) for role in ROLES}
    except (TypeError, ValueError) as exc:
        raise LayoutUnreadable(what, f"PARAM_ROLES: {exc}") from None
    return refs
