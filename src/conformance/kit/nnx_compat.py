"""Small shims over nnx API differences between the Flax releases the matrix covers.

The properties state claims about every release; these helpers only keep the
suite's own bookkeeping (assigning a Variable, reading a shape) from failing
on an older API, so that a failure always means the claim failed.
"""

from __future__ import annotations

import inspect
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


def held(variable: nnx.Variable) -> Any:
    """The array a Variable holds: ``get_value()`` where it exists (0.12+), else ``.value`` (no warning then)."""
    get = getattr(variable, "get_value", None)
    return get() if callable(get) else variable.value


def metadata(variable: nnx.Variable) -> dict[str, Any]:
    """A Variable's metadata: ``get_metadata()`` where it exists (0.10+), else its instance attributes
    other than the value (0.8.5-0.9.0 keep metadata there)."""
    get = getattr(variable, "get_metadata", None)
    if callable(get):
        return dict(get())
    return {k: v for k, v in vars(variable).items() if k != "raw_value" and not k.startswith("_")}


def optimizer_step(optimizer: Any, model: nnx.Module, grads: Any) -> None:
    """``optimizer.update(model, grads)`` (0.11+), or ``optimizer.update(grads)`` where the optimizer holds the model."""
    if "model" in inspect.signature(optimizer.update).parameters:
        optimizer.update(model, grads)
    else:
        optimizer.update(grads)


def replace_value(variable: nnx.Variable, value: Any) -> None:
    """Point a Variable at ``value``, whatever it held (an abstract shape included):
    ``set_value`` where it exists (0.12+), else ``.value = value``."""
    put = getattr(variable, "set_value", None)
    if callable(put):
        put(value)
    else:
        variable.value = value
