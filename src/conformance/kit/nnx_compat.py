"""Small shims over nnx API differences between the Flax releases the matrix covers.

The properties state claims about every release; these helpers only keep the
suite's own bookkeeping (assigning a Variable, reading a shape) from failing
on an older API, so that a failure always means the claim failed.
"""

from __future__ import annotations

from typing import Any

import jax
from flax import nnx


def assign(variable: nnx.Variable, value: Any) -> None:
    """``variable[...] = value`` where supported (0.10.7+), else ``variable.value = value``."""
    try:
        variable[...] = value
    except TypeError:  # 0.8.5-0.9.0: no item assignment; 0.10.0-0.10.6: forwarded to the array
        variable.value = value


def state_leaf_shape(module: nnx.Module, kind: type = nnx.Param) -> tuple[int, ...]:
    """Shape of the first ``kind`` leaf of ``module`` (also works on nnx.eval_shape results)."""
    return tuple(jax.tree_util.tree_leaves(nnx.state(module, kind))[0].shape)
